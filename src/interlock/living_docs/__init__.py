"""Living documentation: ``INTEGRATION-TEST.md`` generated from the suite and its last
results, never written by hand.

The file lists the system's integration points (APIs exposed and called, events published and
consumed, data dependencies), taken from the suite's configuration and OpenAPI documents, and
coverage tables (each OpenAPI operation, event channel and database × the scenarios that
exercised it, with the statuses seen), taken from the Allure results; then the gaps.

Example:
    >>> write_integration_doc(Path("environment/interlock.yaml"),
    ...     Path("reports/allure-results"), Path("INTEGRATION-TEST.md"))  # doctest: +SKIP
"""

from interlock.living_docs.document import (
    Summary,
    add_docs_parser,
    docs_command,
    write_integration_doc,
)
from interlock.living_docs.points import EventCatalog

__all__ = [
    "EventCatalog",
    "Summary",
    "add_docs_parser",
    "docs_command",
    "write_integration_doc",
]
