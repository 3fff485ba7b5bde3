"""The pieces a stack file's definition is made of, and the JSON Schema each one stands for.

A ``Block`` is a mapping with named ``Field``s; ``MapOf`` a mapping of free names (services,
users, databases) to one shape; ``Tagged`` a block whose fields depend on one of them (a
broker's ``type``). Leaf types are ``Scalar``s, ``Choice``s, ``ListOf`` and ``AnyOf``.

Example:
    >>> ready = Block((Field("http", TEXT, "Path to poll.", example="/health"),
    ...                Field("timeout", DURATION, "How long.", default="30 seconds",
    ...                      example="60 seconds")))
    >>> ready.names
    ('http', 'timeout')
    >>> ready.json_schema()["properties"]["http"]
    {'type': 'string', 'description': 'Path to poll.'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Type:
    """A shape a value of the stack file may have."""

    @property
    def word(self) -> str:
        """The shape in words, for the reference."""
        return "any value"

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this shape (without a description)."""
        return {}



@dataclass(frozen=True, eq=False)
class Scalar(Type):
    """Text, a whole number, a number, true/false, or any of a few JSON types."""

    name: str
    schema: Mapping[str, Any]

    @property
    def word(self) -> str:
        return self.name

    def json_schema(self) -> dict[str, Any]:
        return dict(self.schema)


@dataclass(frozen=True, eq=False)
class Choice(Type):
    """One of a few fixed values (``cleanup: tracked | truncate | template``)."""

    values: tuple[Any, ...]

    @property
    def word(self) -> str:
        return " | ".join(f"`{v}`" for v in self.values)

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.values)}


@dataclass(frozen=True, eq=False)
class ListOf(Type):
    """A list of one shape."""

    item: Type

    @property
    def word(self) -> str:
        return f"list of {self.item.word}"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json_schema()}



@dataclass(frozen=True, eq=False)
class AnyOf(Type):
    """One of several shapes (``process: "cmd"`` or ``process: {command: ...}``)."""

    options: tuple[Type, ...]

    @property
    def word(self) -> str:
        return " or ".join(o.word for o in self.options)

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [o.json_schema() for o in self.options]}



@dataclass(frozen=True, eq=False)
class Field:
    """One named field: its shape, what it does, its default and an example value."""

    name: str
    type: Type
    doc: str
    default: Any = None
    example: Any = None
    required: bool = False


@dataclass(frozen=True, eq=False)
class Block(Type):
    """A mapping with these fields and no others."""

    fields: tuple[Field, ...]
    doc: str = ""

    @property
    def word(self) -> str:
        return "mapping"

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in the order they are documented."""
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        """The names of the fields that must be given."""
        return tuple(f.name for f in self.fields if f.required)

    @property
    def optional(self) -> tuple[str, ...]:
        """The names of the fields that may be left out."""
        return tuple(f.name for f in self.fields if not f.required)

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)

    def json_schema(self) -> dict[str, Any]:
        # No "required": a stage's overlay gives only the fields it changes; the loader says
        # what is missing, with the line.
        properties = {}
        for f in self.fields:
            schema = f.type.json_schema()
            schema["description"] = f.doc
            if f.default is not None:
                schema["default"] = f.default
            properties[f.name] = schema
        return {"type": "object", "properties": properties, "additionalProperties": False}



@dataclass(frozen=True, eq=False)
class MapOf(Type):
    """A mapping of names the suite chooses (``services:``) to one shape."""

    value: Type
    key: str = "name"

    @property
    def word(self) -> str:
        return f"mapping of {self.key} to {self.value.word}"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.value.json_schema()}



@dataclass(frozen=True, eq=False)
class Tagged(Type):
    """A mapping whose ``tag`` field chooses the other fields (``brokers: {x: {type: nats}}``)."""

    tag: str
    doc: str
    variants: Mapping[str, Block] = field(default_factory=dict)

    @property
    def word(self) -> str:
        return f"mapping chosen by {self.tag}"

    def variant(self, value: str) -> Block:
        """The block for ``tag: value``, the tag itself included."""
        return self.variants[value]

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "required": [self.tag],
            "properties": {self.tag: {"enum": list(self.variants), "description": self.doc}},
            "allOf": [
                {"if": {"properties": {self.tag: {"const": value}}},
                 "then": block.json_schema()}
                for value, block in self.variants.items()
            ],
        }



TEXT = Scalar("text", {"type": "string"})
INT = Scalar("whole number", {"type": "integer"})
NUMBER = Scalar("number", {"type": "number"})
BOOL = Scalar("true or false", {"type": "boolean"})
ANY = Scalar("any value", {})
TEXTS = ListOf(TEXT)
TEXT_OR_TEXTS = AnyOf((TEXT, TEXTS))
FREE_MAPPING = Scalar("mapping", {"type": "object"})
# Environment values and build arguments are taken as text (`PORT: 8080` is "8080").
TEXT_MAP = MapOf(Scalar("text", {"type": ["string", "number", "boolean", "null"]}), key="name")
DURATION = Scalar("duration", {
    "type": "string", "pattern": r"^\s*(\d+(\.\d+)?|\.\d+)\s*[A-Za-z]+\s*$"})
"""``"5 seconds"``, ``"300 ms"``, ``"2 minutes"`` (or ``s``/``min``)."""
SECONDS = Scalar("duration or seconds", {"anyOf": [{"type": "number", "minimum": 0},
                                                   DURATION.schema]})
