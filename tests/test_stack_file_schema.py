"""The stack file's one definition (interlock/stackfile) agrees with the loader, the JSON Schema
of ``interlock schema`` and docs/STACK-FILE.md, field by field."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from interlock._core.errors import InterlockError
from interlock._core.stackfile import (
    BROKER_TYPES,
    KINDS,
    SECTIONS,
    SUITE_BACKENDS,
    blocks,
    json_schema,
)
from interlock._core.stackfile.markdown import reference
from interlock._core.stackfile.model import Block
from interlock._core.values import parse_duration
from interlock.auth import config as auth_config
from interlock.cli import main
from interlock.db.config import DatabaseConfig
from interlock.events import base as events_base
from interlock.events.config import ADAPTERS, EventsConfig, adapter_class
from interlock.scaffold import init_suite
from interlock.stack.backends import BACKENDS
from interlock.stack.spec import BUILT_IN_KINDS
from interlock.suite import Suite

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = jsonschema.Draft7Validator(json_schema())

# What the examples of the definition refer to: services, secrets, environment variables.
BASE: dict[str, Any] = {
    "secrets": {"jwt": "j", "alice": "a", "robot": "r"},
    "services": {
        "db": {"kind": "postgres"}, "nats": {"kind": "nats"}, "redis": {"kind": "redis"},
        "rabbitmq": {"kind": "rabbitmq"}, "mqtt": {"kind": "mosquitto"}, "kafka": {"kind": "kafka"},
        "auth": {"process": "x"}, "orders": {"process": "x"},
    },
}
UNKNOWN_WORDS = ("unknown field", "unknown key", "unknown setting", "unknown section")


def _instance(path: str, block: Block, fields: dict[str, Any]) -> dict[str, Any]:
    """A stack file with ``fields`` in the block at ``path`` (the required ones added)."""
    tag = re.search(r" \((\w+): (\w+)\)$", path)
    body = {f.name: f.example for f in block.fields if f.required}
    if tag:
        body[tag.group(1)] = tag.group(2)
        path = path[: tag.start()]
    body.update(fields)
    node: Any = body
    for segment in reversed(path.split(".") if path else []):
        if segment.startswith("<"):
            node = {"n1": node}
        elif segment == "listen":
            node = {segment: [node]}
        else:
            node = {segment: node}
    document = copy.deepcopy(BASE)
    for key, value in node.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    for service in document["services"].values():
        if isinstance(service, dict) and not {"kind", "process", "docker", "external"} & set(
                service):
            service["process"] = "x"  # a service needs a way to run
    return document


def _load(tmp_path: Path, document: dict[str, Any]) -> None:
    (tmp_path / "environment").mkdir(exist_ok=True)
    path = tmp_path / "environment" / "interlock.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    Suite.load(path, progress=lambda line: None).close()


PROBES = [(path, block, f.name) for path, block in blocks().items() for f in block.fields]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "s")
    monkeypatch.setenv("JWT_PRIVATE_KEY", "k")


@pytest.mark.parametrize(("path", "block", "name"), PROBES,
                         ids=[f"{p or 'top'}:{n}" for p, _, n in PROBES])
def test_every_field_of_the_definition_is_known_to_the_loader_and_the_schema(
        tmp_path: Path, path: str, block: Block, name: str) -> None:
    document = _instance(path, block, {name: block.field(name).example})
    try:
        _load(tmp_path, document)
    except InterlockError as err:
        # Another check may stop it (a key file that is not there); never an unknown field.
        assert not any(word in err.title.lower() for word in UNKNOWN_WORDS), err.render()
    else:
        errors = [e.message for e in VALIDATOR.iter_errors(document)]
        assert not errors, f"the loader takes {path}.{name}; the JSON Schema does not: {errors}"


@pytest.mark.parametrize("path", list(blocks()))
def test_a_field_outside_the_definition_is_refused_by_the_loader_and_the_schema(
        tmp_path: Path, path: str) -> None:
    document = _instance(path, blocks()[path], {"zzz_not_a_field": 1})
    with pytest.raises(InterlockError, match="zzz_not_a_field"):
        _load(tmp_path, document)
    assert any("zzz_not_a_field" in e.message for e in VALIDATOR.iter_errors(document))


def test_the_broker_adapters_know_the_fields_of_the_definition(monkeypatch) -> None:
    """The adapters keep their own field lists (one file per broker): the same as here."""
    assert set(ADAPTERS) == set(BROKER_TYPES)
    seen: list[tuple[str, ...]] = []
    original = events_base.Settings.__init__

    def recording(self: Any, data: Any, where: str, known: tuple[str, ...]) -> None:
        seen.append(tuple(known))
        original(self, data, where, known)

    monkeypatch.setattr(events_base.Settings, "__init__", recording)
    for type_name in BROKER_TYPES:
        block = blocks()[f"brokers.<broker> (type: {type_name})"]
        seen.clear()
        data = {f.name: f.example for f in block.fields if f.required} | {"type": type_name}
        scheme = {"rabbitmq": "amqp"}.get(type_name, type_name)
        data |= {"url": f"{scheme}://127.0.0.1:1"} if "url" in data else {}
        adapter_class(type_name).config_type.from_dict(data, "brokers.x")
        assert set(seen[0]) == set(block.names), type_name


def test_the_registries_and_the_definition_list_the_same_names() -> None:
    assert KINDS == BUILT_IN_KINDS
    # "external" is chosen per service (an url: form), the others run a whole stack
    assert set(SUITE_BACKENDS) == set(BACKENDS) - {"external"}
    assert blocks()["auth.users.<user>"].names == tuple(auth_config._FLOWS)


def _defaults(cls: type, path: str) -> list[tuple[str, Any, Any]]:
    block = blocks()[path]
    pairs = []
    for f in dataclasses.fields(cls):
        if f.name in block.names and f.default is not dataclasses.MISSING:
            wanted = block.field(f.name).default
            if isinstance(wanted, str) and isinstance(f.default, float):
                wanted = parse_duration(wanted)
            actual = list(f.default) if isinstance(f.default, tuple) else f.default
            pairs.append((f.name, actual, wanted))
    return pairs


@pytest.mark.parametrize(("cls", "path"), [
    (DatabaseConfig, "databases.<database>"),
    (auth_config.LoginFlow, "auth.users.<user>.login"),
    (auth_config.OAuth2Flow, "auth.users.<user>.oauth2"),
    (auth_config.JwtFlow, "auth.users.<user>.jwt"),
    (EventsConfig, "events"),
    *[(adapter_class(t).config_type, f"brokers.<broker> (type: {t})") for t in BROKER_TYPES
      if t != "memory"],  # the fake has no setting but its type
])
def test_the_documented_defaults_are_the_loaders(cls: type, path: str) -> None:
    pairs = _defaults(cls, path)
    assert pairs, f"{cls.__name__} shares no default with {path}"
    for name, actual, documented in pairs:
        assert actual == documented, f"{path}.{name}: loader {actual!r}, doc {documented!r}"


def test_the_reference_and_the_schema_files_are_up_to_date() -> None:
    """Regenerate with `interlock schema --markdown > docs/STACK-FILE.md` and
    `interlock schema > environment/interlock.schema.json`."""
    assert (ROOT / "docs" / "STACK-FILE.md").read_text() == reference()
    assert json.loads((ROOT / "environment" / "interlock.schema.json").read_text()) \
        == json_schema()


def test_the_reference_names_every_field_with_its_type_default_and_example() -> None:
    text = reference()
    for path, block in blocks().items():
        if path == "stages.<stage>":
            continue
        section = text.split(f"## `{path or 'top level'}`\n", 1)[1].split("\n## ", 1)[0]
        for f in block.fields:
            row = next((line for line in section.splitlines()
                        if line.startswith(f"| `{f.name}` |")), None)
            assert row, f"{path}.{f.name} is not in docs/STACK-FILE.md"
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
            assert cells[1] and cells[4], f"{path}.{f.name}: no type or example"
            if f.required or f.default is not None:
                assert cells[2], f"{path}.{f.name}: no default"


def test_interlock_schema_prints_a_valid_json_schema(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft7Validator
    jsonschema.Draft7Validator.check_schema(schema)
    assert set(schema["properties"]) == set(SECTIONS.names)
    assert main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == reference()


def _stack_file_texts() -> list[tuple[str, str]]:
    """The stack files in the tests' sources: string literals whose YAML is a mapping of
    sections; with the repository's and the one `interlock init` writes."""
    found = [("environment/interlock.yaml", (ROOT / "environment" / "interlock.yaml")
              .read_text())]
    for source in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and ":" in node.value and "\n" in node.value:
                try:
                    data = yaml.safe_load(node.value.replace("\t", " "))
                except yaml.YAMLError:
                    continue
                if isinstance(data, dict) and data and set(data) <= set(SECTIONS.names):
                    found.append((f"{source.relative_to(ROOT)}:{node.lineno}", node.value))
    return found


def test_every_stack_file_the_loader_takes_is_valid_for_the_schema(tmp_path: Path) -> None:
    """No editor squiggles a file that runs: environment/interlock.yaml, `interlock init`'s,
    and every stack file in the tests that the loader accepts."""
    init_suite(tmp_path / "init", with_=["postgres", "nats"])
    texts = [*_stack_file_texts(),
             ("interlock init", (tmp_path / "init/environment/interlock.yaml").read_text())]
    checked = 0
    for origin, text in texts:
        suite_dir = tmp_path / f"s{checked}-{len(origin)}"
        (suite_dir / "environment").mkdir(parents=True, exist_ok=True)
        path = suite_dir / "environment" / "interlock.yaml"
        path.write_text(text)
        try:
            Suite.load(path if origin != "environment/interlock.yaml"
                       else ROOT / "environment" / "interlock.yaml",
                       progress=lambda line: None).close()
        except InterlockError:
            continue  # a test of a mistake
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in VALIDATOR.iter_errors(yaml.safe_load(text))]
        assert not errors, f"{origin} loads but the JSON Schema says {errors}"
        checked += 1
    assert checked >= 20, f"only {checked} stack files were found to check"


def test_init_points_editors_at_the_schema(tmp_path: Path) -> None:
    init_suite(tmp_path)
    stack_file = (tmp_path / "environment" / "interlock.yaml").read_text()
    assert stack_file.splitlines()[0] == "# yaml-language-server: $schema=interlock.schema.json"
    written = json.loads((tmp_path / "environment" / "interlock.schema.json").read_text())
    assert written == json_schema()
    assert not list(VALIDATOR.iter_errors(yaml.safe_load(stack_file)))


@pytest.mark.parametrize(("text", "message", "line"), [
    ("suite:\n  bakend: docker\n", 'Unknown field "bakend" in suite', 2),
    ("suite:\n  backend: podman\n", '"backend" must be one of process, docker', 2),
    ("report:\n  redact_headers: X-Key\n", '"redact_headers" must be a list', 2),
    ("contracts: [x]\n", 'Unknown section "contracts"', 1),
])
def test_the_suite_and_report_sections_are_checked_too(tmp_path: Path, text: str,
                                                        message: str, line: int) -> None:
    (tmp_path / "environment").mkdir()
    path = tmp_path / "environment" / "interlock.yaml"
    path.write_text(text)
    with pytest.raises(InterlockError) as caught:
        Suite.load(path, progress=lambda line: None)
    assert message in caught.value.title
    assert f"interlock.yaml:{line}" in (caught.value.where or "")
