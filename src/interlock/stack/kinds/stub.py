"""An HTTP stub: a service the system calls but the suite cannot run (a payment provider, an
e-mail gateway), answered per scenario by ``interlock/stubs/server.py`` (werkzeug).

Under the process backend it is that file run by this Python on a free loopback port; under
the Docker backend the same file runs in a plain Python container (option ``image``, else
``INTERLOCK_BASE_IMAGE`` when set, else ``python:3.11-slim``, like the delay proxy; any image
with ``python3`` 3.9 or later) with werkzeug mounted
read-only beside it, so containers reach it by its service name. Nothing is built or
downloaded. Options: ``image``; ``scenario_header``, the header the system passes on from the
test's request to the stub (``traceparent``, the W3C trace context, or a header of the
suite's own): a scenario's answers then apply to its own requests only, and it checks only
those, so that features which set answers run beside others under ``interlock run -j``.

Example:
    >>> from pathlib import Path
    >>> plan(KindContext("payments", Path("/tmp"), port=18080)).url
    'http://127.0.0.1:18080'
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from interlock._core.errors import InterlockError
from interlock._core.secrets import SENSITIVE_HEADERS
from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck, python_image
from interlock.stack.kinds._local import known_options

OPTIONS = ("image", "scenario_header")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header's name (RFC 9110)
_TAKEN = {"host", "connection", "transfer-encoding", "accept", "user-agent"}
CONTAINER_PORT = 8080
_HOME = "/opt/interlock-stub"
_READY = ReadyCheck("http", path="/__interlock/health", status=200, timeout=30)


def plan(ctx: KindContext) -> ProcessPlan:
    """The stub server as a local process on 127.0.0.1:``ctx.port``, saying in a file of its
    folder when its journal changes (``{name.changes_file}``: the test reads it after each
    step instead of asking the server)."""
    _options(ctx)
    changes = ctx.workdir / "journal-changes"
    return ProcessPlan(
        command=[sys.executable, str(_server_file()), "--host", "127.0.0.1",
                 "--port", str(ctx.port), "--name", ctx.name, "--changes-file", str(changes)],
        port=ctx.port,
        url=f"http://127.0.0.1:{ctx.port}",
        ready=_READY,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
        extra={"changes_file": str(changes)},
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """The same server in a Python container, its code and werkzeug mounted read-only.

    When the engine runs on this machine (``ctx.same_machine``), its changes file is a file
    of this machine's in the service's folder, mounted (made here, empty, so that the engine
    mounts a file and not a folder), and the test reads it as it reads a local server's.
    Elsewhere (Docker Desktop's VM, a remote engine) a write in the container may reach this
    side late, or the folder may not be shared with the engine at all: the test asks for the
    journal after every step.

    Example:
        >>> import tempfile
        >>> there = docker_plan(KindContext("payments", Path(tempfile.mkdtemp()), 0))
        >>> "changes_file" in there.extra, "--changes-file" in there.command
        (False, False)
    """
    image = _options(ctx) or python_image()
    command = ["python3", f"{_HOME}/stub_server.py", "--host", "0.0.0.0",
               "--port", str(CONTAINER_PORT), "--name", ctx.name]
    volumes = {str(_server_file()): f"{_HOME}/stub_server.py:ro",
               **_mounted("werkzeug"), **_mounted("markupsafe")}
    extra: dict[str, str] = {}
    if ctx.same_machine:
        changes = ctx.workdir / "journal-changes"
        changes.write_bytes(b"")  # empty: until the server writes it, the test asks
        changes.chmod(0o600)
        command += ["--changes-file", f"{_HOME}/journal-changes"]
        volumes[str(changes)] = f"{_HOME}/journal-changes"
        extra["changes_file"] = str(changes)
    return DockerPlan(
        image=image,
        container_port=CONTAINER_PORT,
        url_template="http://{host}:{port}",
        ready=_READY,
        command=command,
        env={"PYTHONPATH": f"{_HOME}/lib", "PYTHONDONTWRITEBYTECODE": "1",
             "PYTHONUNBUFFERED": "1"},
        volumes=volumes,
        extra=extra,
    )


def _mounted(package: str) -> dict[str, str]:
    """The package and its metadata (werkzeug reads its own version) as read-only mounts."""
    folders = [_package_dir(package)]
    try:
        record = next(f for f in importlib.metadata.distribution(package).files or ()
                      if f.name == "METADATA")
        folders.append(Path(str(record.locate())).resolve().parent)
    except (importlib.metadata.PackageNotFoundError, StopIteration):
        pass  # no metadata to bring along (a source checkout): the package alone
    return {str(folder): f"{_HOME}/lib/{folder.name}:ro" for folder in folders}


def _server_file() -> Path:
    # Found, not imported: the server is the stubs package's, and runs as a file of its own.
    return _origin("interlock.stubs.server")


def _package_dir(package: str) -> Path:
    return _origin(package).parent


def _origin(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise InterlockError(
            f"The stub kind needs the Python module {module}, which is not installed",
            hint="pip install werkzeug (Interlock's own installation brings it).",
        )
    return Path(spec.origin).resolve()


def scenario_header(name: str, options: Mapping[str, object]) -> str | None:
    """The header that tells the scenarios' requests apart (option ``scenario_header``), or
    None; a clear error for one that is not a header's name.

    Example:
        >>> scenario_header("payments", {"scenario_header": "traceparent"})
        'traceparent'
    """
    given = options.get("scenario_header")
    if given is None:
        return None
    if not isinstance(given, str) or not _TOKEN.fullmatch(given):
        raise InterlockError(
            f'The scenario_header of stub "{name}" is not the name of an HTTP header: {given!r}',
            where=f"services.{name}.options.scenario_header",
            hint="Name the header the system passes on from the test's request to the stub: "
            "scenario_header: traceparent (W3C trace context), or a header of your own.",
        )
    lowered = given.lower()
    sensitive = lowered in SENSITIVE_HEADERS
    if sensitive or lowered in _TAKEN or lowered.startswith("content-"):
        why = ("it carries credentials, which are hidden in the report" if sensitive
               else "the requests use it for something else")
        raise InterlockError(
            f'The scenario_header of stub "{name}" cannot be {given}: {why}',
            where=f"services.{name}.options.scenario_header",
            hint="Use traceparent (W3C trace context), or a header of your own that the system "
            "passes on, e.g. X-Test-Scenario.",
        )
    return given


def _options(ctx: KindContext) -> str:
    known_options(ctx, "stub", OPTIONS)
    scenario_header(ctx.name, ctx.options)
    return str(ctx.options.get("image") or "")
