"""What the kinds that run a machine's own server programs share: finding the program (with
the Debian package to install when it is missing) and refusing options they do not take.

Example:
    >>> installed("sh", package="dash").endswith("/sh")
    True
"""

from __future__ import annotations

import shutil

from interlock._core.errors import InterlockError, did_you_mean
from interlock.stack.base import KindContext

# Server programs live in sbin, which a non-root PATH often lacks.
_SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def installed(*names: str, package: str) -> str:
    """The path of the first of ``names`` installed here; a clear error naming ``package``."""
    for name in names:
        found = shutil.which(name) or shutil.which(name, path=_SYSTEM_PATH)
        if found:
            return found
    raise InterlockError(
        f"{names[0]} is not installed",
        hint=f"Install the Debian package {package} (`make test` installs it: "
        "scripts/servers.sh), or run this service with the docker backend.",
    )


def no_options(ctx: KindContext, kind: str) -> None:
    """Refuse an ``options:`` block on a kind that takes none."""
    if ctx.options:
        raise InterlockError(
            f'{kind} service "{ctx.name}" takes no options',
            where=f"services.{ctx.name}.options",
            hint="Remove the options block.",
        )


def known_options(ctx: KindContext, kind: str, known: tuple[str, ...]) -> None:
    """Refuse an option the kind does not take, naming those it does."""
    unknown = sorted(set(ctx.options) - set(known))
    if unknown:
        raise InterlockError(
            f'unknown option "{unknown[0]}" for {kind} service "{ctx.name}"',
            where=f"services.{ctx.name}.options",
            hint=did_you_mean(unknown[0], list(known)),
        )
