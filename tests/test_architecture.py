"""ARCHITECTURE.md's rules, checked: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import interlock

PACKAGE = Path(interlock.__file__).parent
FOUNDATION = {"_core"}  # a folder of its own: errors, values, match, secrets, the stack file...
CAPABILITIES = {"http", "auth", "contracts", "events", "db", "stack", "stubs", "allure"}
COMPOSITION = {"suite", "suite_check", "world", "living_docs"}
BINDINGS = {"behave", "cli", "scaffold", "example_service"}


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


def test_every_module_has_a_layer_its_path_names() -> None:
    """A reader finds a module's layer from its path (``interlock/_core/`` is the
    foundation); a new top-level module or package must be given one here."""
    layers = FOUNDATION | CAPABILITIES | COMPOSITION | BINDINGS | {"__init__"}
    tops = {top for top, _ in modules()}
    assert tops <= layers, f"modules with no layer: {sorted(tops - layers)}"
    assert all(top in tops for top in layers - {"__init__"}), sorted(layers - tops)


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
            assert used <= FOUNDATION, f"{path} (capability) imports {used - FOUNDATION}"
        elif top in COMPOSITION:
            assert not used & BINDINGS, f"{path} (composition) imports {used & BINDINGS}"


ADAPTERS = {
    "stack": {"process", "docker", "external", "memory"},  # the service backends
    "events": {"nats", "rabbitmq", "redis_streams", "mqtt", "webhook", "kafka", "memory"},
}


ADAPTER_FOLDERS = {"stack": "stack.backends", "events": "events"}


def adapter_of(module: str) -> tuple[str, str] | None:
    """(package, adapter) when ``module`` is an adapter or inside one
    (``interlock.stack.backends.docker.engine``: the stack's docker backend)."""
    for package, folder in ADAPTER_FOLDERS.items():
        prefix = f"interlock.{folder}."
        if module.startswith(prefix):
            name = module[len(prefix):].split(".")[0]
            return (package, name) if name in ADAPTERS[package] else None
    return None


def test_adapters_import_only_their_base() -> None:
    """``stack/backends/docker/`` never imports ``stack/backends/process.py``; ``events/nats.py`` never
    ``events/rabbitmq.py``."""
    for _top, path in modules():
        module = "interlock." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = adapter_of(module)
        if own is None:
            continue
        others = {adapter_of(m) for m in imports_of(path)} - {None, own}
        assert not others, f"{path} imports another adapter: {others}"


def test_the_core_imports_no_adapter() -> None:
    """Only an adapter's own files import it: ``Stack``, ``Suite`` and the hooks find a
    backend or a broker through a registry (``stack/backends.py``, ``events/config.py``)."""
    for _top, path in modules():
        module = "interlock." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = adapter_of(module)
        used = {adapter_of(m) for m in imports_of(path)} - {None, own}
        assert not used, f"{path} imports the adapter(s) {used}"


def test_the_stack_imports_no_backend() -> None:
    imported = imports_of(PACKAGE / "stack" / "stack.py")
    assert not {m for m in imported if adapter_of(m)}, imported


def test_no_ability_of_a_running_service_is_probed_with_getattr() -> None:
    """RunningService covers the whole lifecycle with honest defaults (issue 10): its
    abilities are called, never looked for."""
    names = {"running", "service", "svc", "kept", "adopted"}
    for _, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in {"getattr", "hasattr"} and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in names):
                raise AssertionError(f"{path}:{node.lineno} probes {node.args[0].id} with "
                                     f"{node.func.id}: give RunningService the method")
