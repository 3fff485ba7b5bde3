"""Contracts: JSON Schema files and OpenAPI documents, checked against what was observed.

* ``check_schema`` / ``SchemaLibrary`` (``schema.py``): a JSON document against a schema file.
* ``OpenApiContract`` (``openapi.py``): an HTTP exchange (``Observed``) against the operation
  of an OpenAPI 3.0/3.1 document that matches its method and path.
* ``Operations`` (``operations.py``): which documented operation a request is for, and what
  each operation documents, without validating anything.

Example:
    >>> Operations({"paths": {"/orders": {"post": {}}}}).find("POST", "/orders").template
    '/orders'
"""

from interlock.contracts.openapi import Observed, OpenApiContract
from interlock.contracts.operations import Documented, Operation, Operations
from interlock.contracts.schema import SchemaLibrary, check_schema

__all__ = [
    "Documented",
    "Observed",
    "OpenApiContract",
    "Operation",
    "Operations",
    "SchemaLibrary",
    "check_schema",
]
