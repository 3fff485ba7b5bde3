"""ARCHITECTURE.md's rules, checked: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import interlock

PACKAGE = Path(interlock.__file__).parent
FOUNDATION = {"errors", "values", "match", "secrets", "report", "config", "stackfile", "extras",
              "waiting"}
CAPABILITIES = {"http", "responses", "auth", "contracts", "events", "db", "stack", "allure"}
COMPOSITION = {"suite", "suite_check", "world", "living_docs"}
BINDINGS = {"behave", "cli"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "interlock" else ""


def modules() -> list[tuple[str, Path]]:
    result = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        result.append((relative.parts[0], path))
    return result


def test_only_the_binding_imports_behave() -> None:
    for top, path in modules():
        if top == "behave":
            continue
        bad = {m for m in imports_of(path) if m == "behave" or m.startswith("behave.")}
        assert not bad, f"{path} imports {bad}: only interlock/behave/ may"


def test_only_the_allure_reporter_and_binding_import_allure() -> None:
    for top, path in modules():
        if top in {"behave", "allure"}:
            continue
        bad = {m for m in imports_of(path) if m.startswith(("allure_commons", "allure_behave"))}
        assert not bad, f"{path} imports {bad}"


def test_layers_import_downward_only() -> None:
    for top, path in modules():
        used = {layer_of(m) for m in imports_of(path)} - {"", top}
        if top in FOUNDATION:
            assert used <= FOUNDATION, f"{path} (foundation) imports {used - FOUNDATION}"
        elif top in CAPABILITIES:
            # responses.py is the HTTP capability's expectations: it reads an Exchange.
            allowed = FOUNDATION | ({"http"} if top == "responses" else set())
            assert used <= allowed, f"{path} (capability) imports {used - allowed}"
        elif top in COMPOSITION:
            assert not used & BINDINGS, f"{path} (composition) imports {used & BINDINGS}"


def test_adapters_import_only_their_base() -> None:
    for package in ("events", "stack"):
        folder = PACKAGE / package
        if not folder.is_dir():
            continue
        backends = {"events": {"nats", "rabbitmq", "redis_streams", "mqtt", "webhook"},
                    "stack": {"process", "docker", "external"}}[package]
        for path in folder.glob("*.py"):
            if path.stem not in backends:
                continue
            siblings = {m.rsplit(".", 1)[-1] for m in imports_of(path)
                        if m.startswith(f"interlock.{package}.")}
            assert not siblings & (backends - {path.stem}), f"{path} imports {siblings}"
