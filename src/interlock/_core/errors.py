"""What goes wrong, said the way a good bug report says it.

Two kinds of trouble reach a user:

* ``InterlockError``: the suite itself is wrong (bad JSON in a docstring, an unknown service,
  a missing file, a bad stack file, a server that is not running). The run cannot check
  anything; the message says what, where and how to fix it, and no traceback is shown.
* ``Failure``: a check ran and the system under test did not behave as expected (a status,
  a JSON field, an event that never came). It is an ``AssertionError`` so that behave and
  pytest count it as a failed step rather than an error.

Both carry a one-line ``title``, optional ``details`` (the body: mismatches, a log tail),
``where`` (feature file and line, a service, a JSON path) and ``hint`` (what to try).

Example:
    >>> err = InterlockError("Unknown service \\"ordrs\\"", where="place_order.feature:12",
    ...                      hint="Known services: auth, orders")
    >>> print(err)
    Unknown service "ordrs"
      where: place_order.feature:12
      hint:  Known services: auth, orders
"""

from __future__ import annotations

from collections.abc import Iterable


class _Explained:
    """The shared shape of both error kinds: title, details, where, hint."""

    title: str
    details: str
    where: str
    hint: str

    def _init(self, title: str, details: str, where: str, hint: str) -> None:
        self.title = title
        self.details = details
        self.where = where
        self.hint = hint

    def render(self) -> str:
        """The full text shown to the user."""
        lines = [self.title]
        if self.details:
            lines.extend("  " + line if line else "" for line in self.details.splitlines())
        if self.where:
            lines.append(f"  where: {self.where}")
        if self.hint:
            lines.append(f"  hint:  {self.hint}")
        return "\n".join(lines)

    def located(self, where: str) -> _Explained:
        """Fill in ``where`` when the raiser did not know it (the step binding does)."""
        if not self.where:
            self.where = where
        elif where and where not in self.where:
            self.where = f"{where} ({self.where})"
        return self


class InterlockError(_Explained, Exception):
    """A mistake in the suite or its environment: the run cannot check anything here.

    Example:
        >>> raise InterlockError("Missing file", where="payloads/order.json",
        ...                      hint="Put it under environment/data/")  # doctest: +SKIP
    """

    def __init__(self, title: str, details: str = "", *, where: str = "", hint: str = "") -> None:
        self._init(title, details, where, hint)
        super().__init__(title)

    def __str__(self) -> str:
        return self.render()


class Failure(_Explained, AssertionError):
    """An expectation about the system under test did not hold.

    Example:
        >>> raise Failure("Response status is 500, expected 201",
        ...               details="body: {\\"error\\": \\"boom\\"}")  # doctest: +SKIP
    """

    def __init__(self, title: str, details: str = "", *, where: str = "", hint: str = "") -> None:
        self._init(title, details, where, hint)
        super().__init__(title)

    def __str__(self) -> str:
        return self.render()


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A hint listing what exists, closest first.

    Example:
        >>> did_you_mean("ordrs", ["auth", "orders"])
        'did you mean "orders"? Known: "auth", "orders"'
    """
    import difflib

    known_sorted = sorted(known)
    if not known_sorted:
        return "none are configured"
    close = difflib.get_close_matches(name, known_sorted, n=1)
    listing = ", ".join(f'"{k}"' for k in known_sorted)
    if close:
        return f'did you mean "{close[0]}"? Known: {listing}'
    return f"Known: {listing}"
