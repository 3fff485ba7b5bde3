"""``python -m demo.notifications [--host H] [--port P]``."""

import sys

from demo.notifications.app import build_app
from demo.service import run


def main(argv: list[str]) -> int:
    return run(build_app, "notifications", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
