"""``python -m demo.analytics [--host H] [--port P]``."""

import sys

from demo.analytics.app import build_app
from demo.service import run


def main(argv: list[str]) -> int:
    return run(build_app, "analytics", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
