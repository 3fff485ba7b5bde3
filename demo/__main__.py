"""``python -m demo <service> [--host H] [--port P]``: the Docker image's entry point."""

import importlib
import sys

from demo import SERVICES


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SERVICES:
        print(f"usage: python -m demo {{{','.join(SERVICES)}}} [--host HOST] [--port PORT]",
              file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(f"demo.{argv[0]}.__main__")
    return int(module.main(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
