"""Matching JSON: markers, the **is** and **contains** modes, every mismatch listed, JSONPath.

The public names live here; the package holds ``comparison`` (markers, ``compare``,
``expect_match``), ``jsonpaths`` (``select``, ``select_one``, ``child_path``) and the private
``_report`` (the mismatch report and its excerpts).

Example:
    >>> compare({"id": "#uuid", "n": 2}, {"id": "x", "n": 2})[0].reason
    'not a uuid'
    >>> select_one({"order": {"id": "o-1"}}, "$.order.id")
    'o-1'
"""

from interlock._core.match._report import MISSING, Mismatch, format_mismatches, split_path
from interlock._core.match._report import split_path as _path_segments  # noqa: F401  (tests use it)
from interlock._core.match.comparison import KNOWN_MARKERS, MODES, compare, expect_match
from interlock._core.match.jsonpaths import child_path, select, select_one

__all__ = [
    "KNOWN_MARKERS",
    "MISSING",
    "MODES",
    "Mismatch",
    "child_path",
    "compare",
    "expect_match",
    "format_mismatches",
    "select",
    "select_one",
    "split_path",
]
