"""``python -m demo.orders [--host H] [--port P]``."""

import sys

from demo.orders.app import build_app
from demo.service import run


def main(argv: list[str]) -> int:
    return run(build_app, "orders", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
