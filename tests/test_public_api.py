"""The public names stay the ones ``__all__`` lists (httpx's test_exported_members)."""

from __future__ import annotations

import interlock


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(interlock) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(interlock, name)).__name__ == "module"}
    assert set(interlock.__all__) == public - modules
    for name in interlock.__all__:
        assert getattr(interlock, name).__doc__, f"{name} has no docstring"
