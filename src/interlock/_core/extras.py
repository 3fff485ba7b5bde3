"""What an optional part of Interlock needs installed, and the error that says how to get it.

Interlock's core runs HTTP suites; each server kind and broker client is an extra
(``pip install 'interlock[nats]'``). A kind or broker adapter names what it needs with one
call, ``requires``, which fails at once when the package is missing and, used as a context
manager around the adapter's imports, turns their ``ModuleNotFoundError`` into the same
message (the adapter module is imported only when a suite uses it).

Example:
    >>> requires("PyYAML", extra="yaml", what="The stack file")  # installed: nothing happens
    <contextlib._GeneratorContextManager object at ...>
    >>> requires("no-such-package", extra="nats", what="The nats broker")
    Traceback (most recent call last):
    interlock._core.extras.MissingExtra: The nats broker needs the Python package ...
      hint:  pip install 'interlock[nats]'  (or everything: pip install 'interlock[all]')
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator

from interlock._core.errors import InterlockError


class MissingExtra(InterlockError):
    """A part of Interlock the suite uses needs a package that is not installed."""

    def at(self, where: str) -> MissingExtra:
        """The same error, said from ``where`` in the stack file (when it has no place yet)."""
        if self.where:
            return self
        return MissingExtra(self.title, self.details, where=where, hint=self.hint)


def requires(package: str, *, extra: str, what: str,
             where: str = "") -> contextlib.AbstractContextManager[None]:
    """Raise ``MissingExtra`` unless the distribution ``package`` is installed.

    ``extra`` is Interlock's extra that installs it, ``what`` the part that needs it ("The
    nats broker"), ``where`` the stack file's field that asked for it, when known. The value
    returned is a context manager for the adapter's imports of that package.
    """
    try:
        importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise _missing(package, extra, what, where) from None
    return _imports(package, extra, what, where)


@contextlib.contextmanager
def _imports(package: str, extra: str, what: str, where: str) -> Iterator[None]:
    # Installed but broken (a partial uninstall, a missing dependency of its own).
    try:
        yield
    except ModuleNotFoundError as err:
        raise _missing(package, extra, what, where, err.name or "") from None


def _missing(package: str, extra: str, what: str, where: str, module: str = "") -> MissingExtra:
    broken = f" (its module {module} cannot be imported)" if module else ""
    installed = "is installed but broken" if module else "is not installed"
    return MissingExtra(
        f"{what} needs the Python package {package}, which {installed}{broken}",
        where=where,
        hint=f"pip install 'interlock[{extra}]'  (or everything: pip install 'interlock[all]')",
    )
