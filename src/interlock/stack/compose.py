"""Docker Compose files as stack services.

``load_compose`` reads one or more compose files (merged in order, like
``docker compose -f a.yaml -f b.yaml``), interpolates ``${VAR}`` from the environment and the
project's ``.env``, keeps the services of the active profiles and turns each into a
``ServiceSpec`` with a ``docker:`` form, which the Docker backend runs like any other: a free
127.0.0.1 port for each published one, the stack's network with the service name as alias,
labels, logs and clean-up.

Only the keys listed in ``SERVICE_KEYS`` (and ``x-`` extensions, which the Compose
Specification says to ignore) are taken; any other key is an error naming the file, the line
and what is supported: a compose file is never half understood.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "compose.yaml").write_text(
    ...     "services:\\n  web:\\n    image: ${IMAGE:-nginx}\\n    ports: ['8080:80']\\n")
    >>> web = load_compose([folder / "compose.yaml"], environ={})["web"]
    >>> web.docker.image, web.docker.port
    ('nginx', 80)
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interlock._core.config import Located, SuiteConfig, check_keys, read_yaml
from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.stackfile import block
from interlock.stack.spec import DockerForm, ServiceSpec

TOP_KEYS = ("services", "volumes", "networks", "name", "version")
SERVICE_KEYS = (
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose",
    "volumes", "depends_on", "healthcheck", "profiles", "networks",
)
BUILD_KEYS = ("context", "dockerfile", "args", "target")
HEALTHCHECK_KEYS = ("test", "interval", "timeout", "retries", "start_period", "disable")
DEPENDS_KEYS = ("condition", "required")
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
PORT_KEYS = ("target", "published", "host_ip", "protocol", "name", "app_protocol")
VOLUME_KEYS = ("type", "source", "target", "read_only")
_SUPPORTED = ("Interlock runs these compose keys of a service: " + ", ".join(SERVICE_KEYS)
              + " (and x- extensions)")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_VAR = re.compile(r"\$(?:(?P<escaped>\$)|(?P<plain>[_a-zA-Z][_a-zA-Z0-9]*)|\{(?P<braced>))")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")


@dataclass(frozen=True)
class _At:
    """Where a value was written: file and line (for messages)."""

    file: Path
    line: int
    path: str

    def __str__(self) -> str:
        line = f":{self.line}" if self.line else ""
        return f"{self.file}{line} ({self.path})"

    def key(self, node: Any, key: str) -> _At:
        """The place of ``key`` inside ``node`` (a mapping read from this file, or merged)."""
        where = getattr(node, "wheres", {}).get(key)
        if where is not None:
            return _At(where[0], where[1], f"{self.path}.{key}".lstrip("."))
        line = getattr(node, "lines", {}).get(key, self.line)
        return _At(self.file, line, f"{self.path}.{key}".lstrip("."))


def _error(title: str, at: _At | str, hint: str = "") -> InterlockError:
    return InterlockError(title, where=str(at), hint=hint)


# --- reading, interpolating, merging --------------------------------------------------------


def read_env_file(path: Path, at: _At | str) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, ``export``, quotes), as compose reads ``.env``.

    Example:
        >>> import tempfile
        >>> env = Path(tempfile.mkdtemp()) / ".env"
        >>> _ = env.write_text("# db\\nexport USER=app\\nPASS='p w'\\nEMPTY=\\n")
        >>> read_env_file(env, "x")
        {'USER': 'app', 'PASS': 'p w', 'EMPTY': ''}
    """
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise _error(f"Cannot read the env file {path}: {err.strerror}", at,
                     "Create it, or remove it from env_file (or mark it required: false)."
                     ) from None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[_a-zA-Z][_a-zA-Z0-9.-]*", key):
            raise _error(f"Line {number} of {path} is not KEY=VALUE: {raw!r}", f"{path}:{number}",
                         "Write one KEY=VALUE per line (# starts a comment).")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def interpolate(text: str, variables: Mapping[str, str], at: _At | str) -> str:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
    ``${VAR?error}``, ``${VAR:+alt}``, ``${VAR+alt}`` (nested), ``$$`` for a dollar sign;
    an unset variable without a default is empty, as the Compose Specification says.

    Example:
        >>> interpolate("${A:-x}/${B}/$$C/${D:-${A:-y}}", {"B": "b"}, "f")
        'x/b/$C/y'
    """
    out: list[str] = []
    pos = 0
    while True:
        match = _VAR.search(text, pos)
        if match is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:match.start()])
        if match.group("escaped"):
            out.append("$")
            pos = match.end()
        elif match.group("plain"):
            _noted(match.group("plain"), variables, at)
            out.append(variables.get(match.group("plain"), ""))
            pos = match.end()
        else:
            end = _closing_brace(text, match.end(), at)
            out.append(_braced(text[match.end():end], variables, at))
            pos = end + 1


def _closing_brace(text: str, start: int, at: _At | str) -> int:
    depth = 1
    for index in range(start, len(text)):
        if text.startswith("${", index):
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise _error(f"Unclosed ${{ in {text!r}", at, "Close it with }, or write $$ for a dollar sign.")


def _braced(body: str, variables: Mapping[str, str], at: _At | str) -> str:
    match = re.match(r"([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?)([-?+])(.*))?$", body, re.S)
    if match is None:
        raise _error(f"Invalid substitution ${{{body}}}", at,
                     "Compose takes ${VAR}, ${VAR:-default}, ${VAR:?error} and ${VAR:+alt}.")
    name, colon, operator, rest = match.groups()
    value = variables.get(name)
    usable = value is not None and (not colon or value != "")
    if operator is None:
        _noted(name, variables, at)
        return value or ""
    if operator == "-":
        return value if usable and value is not None else interpolate(rest, variables, at)
    if operator == "+":
        return interpolate(rest, variables, at) if usable else ""
    if not usable or value is None:
        message = interpolate(rest, variables, at) or "required"
        raise _error(f"Variable {name} is {'unset or empty' if colon else 'unset'}: {message}",
                     at, f"Set {name} in the environment or in the .env file beside the "
                     "compose file.")
    return value


class _Variables(dict[str, str]):
    """The variables interpolation reads, and those it found unset (name: where)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.unset: dict[str, str] = {}


def _noted(name: str, variables: Mapping[str, str], at: _At | str) -> None:
    if name not in variables and isinstance(variables, _Variables):
        variables.unset.setdefault(name, str(at))


def _interpolated(node: Any, variables: Mapping[str, str], at: _At) -> Any:
    """The tree with every text value interpolated; mappings remember file and line."""
    if isinstance(node, dict):
        result = Located()
        result.line = getattr(node, "line", at.line)
        result.wheres = {}  # type: ignore[attr-defined]
        for key, value in node.items():
            here = at.key(node, key)
            result[key] = _interpolated(value, variables, here)
            result.lines[key] = here.line
            result.wheres[key] = (here.file, here.line)  # type: ignore[attr-defined]
        return result
    if isinstance(node, list):
        return [_interpolated(item, variables, at) for item in node]
    if isinstance(node, str):
        return interpolate(node, variables, at)
    return node


def _normalised(service: Any, at: _At) -> Any:
    """The forms merged key by key: build as a mapping, environment, args and depends_on as
    mappings (compose merges them by name)."""
    if not isinstance(service, dict):
        return service
    if isinstance(service.get("build"), str):
        _replace(service, "build", _like(service, {"context": service["build"]}, "build"))
    for key, holder in (("environment", service), ("args", service.get("build"))):
        if isinstance(holder, dict) and isinstance(holder.get(key), list):
            pairs = {}
            for item in holder[key]:
                name, sep, value = str(item).partition("=")
                pairs[name] = value if sep else None
            _replace(holder, key, _like(holder, pairs, key))
    if isinstance(service.get("depends_on"), list):
        _replace(service, "depends_on", _like(service, {
            str(name): {"condition": "service_started"} for name in service["depends_on"]},
            "depends_on"))
    return service


def _like(parent: Any, values: dict[str, Any], key: str) -> Located:
    """A mapping made from a short form, every key placed where the short form was written."""
    made = Located(values)
    where = getattr(parent, "wheres", {}).get(key)
    made.wheres = {name: where for name in values} if where else {}  # type: ignore[attr-defined]
    made.lines = {name: where[1] for name in values} if where else {}
    return made


def _replace(node: Any, key: str, value: Any) -> None:
    node[key] = value


_APPENDED = ("ports", "expose", "volumes", "env_file", "profiles")


def _merge(base: Any, over: Any, key: str = "") -> Any:
    """Compose's merge: mappings key by key, ports/expose/volumes/env_file/profiles appended,
    anything else (command, entrypoint, healthcheck.test) replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = Located(base)
        merged.lines = dict(base.lines) if isinstance(base, Located) else {}
        merged.wheres = dict(getattr(base, "wheres", {}))  # type: ignore[attr-defined]
        for name, value in over.items():
            merged[name] = _merge(base.get(name), value, name) if name in base else value
            if name in getattr(over, "wheres", {}):
                merged.wheres[name] = over.wheres[name]  # type: ignore[attr-defined]
                merged.lines[name] = over.wheres[name][1]  # type: ignore[attr-defined]
        return merged
    if isinstance(base, list) and isinstance(over, list) and key in _APPENDED:
        return base + [item for item in over if item not in base]
    return over


def _project_variables(folder: Path, environ: Mapping[str, str]) -> _Variables:
    """The project's ``.env`` (beside the first compose file), under the environment."""
    env_file = folder / ".env"
    values = read_env_file(env_file, str(env_file)) if env_file.is_file() else {}
    return _Variables({**values, **environ})


# --- the project --------------------------------------------------------------------------


def load_compose(
    files: Sequence[Path], *, profiles: Iterable[str] = (),
    environ: Mapping[str, str] | None = None, where: str = "",
    warn: Callable[[str], None] = lambda line: None,
) -> dict[str, ServiceSpec]:
    """The services of the active profiles in ``files`` (merged in order), as ``ServiceSpec``s.

    ``profiles`` are enabled besides those in ``COMPOSE_PROFILES``; relative paths (build
    contexts, bind mounts, env files) are relative to the first file's folder, as in compose.
    A variable used without a default and not set is empty, and said once to ``warn``.
    """
    environ = dict(os.environ if environ is None else environ)
    if not files:
        raise _error("No compose file given", where, "compose: docker-compose.test.yaml")
    project = files[0].resolve().parent
    variables = _project_variables(project, environ)
    merged: Any = None
    for file in files:
        if not file.is_file():
            raise _error(f"Compose file not found: {file}", where,
                         "Name a compose file relative to the suite folder (the stack file's "
                         "folder's parent).")
        document = read_yaml(file)
        at = _At(file, 1, "")
        if not isinstance(document, dict):
            raise _error(f"The compose file {file} is not a mapping of top-level keys", at,
                         "It starts with services:")
        _check(document, TOP_KEYS, _At(file, 0, ""), "top-level key",
               "Interlock reads services, volumes and networks of a compose file.")
        document = _interpolated(document, variables, _At(file, 0, ""))
        for name, service in (document.get("services") or {}).items():
            document["services"][name] = _normalised(service, _At(file, 0, f"services.{name}"))
        merged = document if merged is None else _merge(merged, document)
    for name, at_text in variables.unset.items():
        warn(f"interlock: compose: ${{{name}}} is not set, so it is empty ({at_text}); set it "
             "in the environment or in .env, or give a default: ${" + name + ":-value}")
    assert merged is not None
    first = _At(files[0], 0, "")
    services = merged.get("services") or Located()
    if not isinstance(services, dict) or not services:
        raise _error("The compose files define no services", first.key(merged, "services"),
                     "services:\n  orders:\n    image: my/orders:1.2")
    volumes = _declared(merged, "volumes", first)
    _declared(merged, "networks", first)
    active = set(profiles) | {p for p in environ.get("COMPOSE_PROFILES", "").split(",") if p}
    enabled = {name for name, body in services.items()
               if not (isinstance(body, dict) and body.get("profiles"))
               or set(map(str, body["profiles"])) & active}
    jobs = set()
    for name in enabled:
        body = services[name] if isinstance(services[name], dict) else {}
        for dep, options in (body.get("depends_on") or {}).items():
            if isinstance(options, dict) and options.get("condition") == \
                    "service_completed_successfully":
                jobs.add(str(dep))
    specs = {}
    for name in services:
        if name in enabled:
            at = _At(first.key(services, name).file, first.key(services, name).line,
                     f"services.{name}")
            specs[name] = _service(str(name), services[name], at, project, volumes, enabled,
                                   services, environ, job=name in jobs)
    return specs


def _declared(document: Any, key: str, at: _At) -> set[str]:
    """Top-level volumes or networks: names only (Interlock makes them per run)."""
    section = document.get(key) or {}
    here = at.key(document, key)
    if not isinstance(section, dict):
        raise _error(f"{key} must be a mapping of names", here, f"{key}:\n  data: {{}}")
    for name, options in section.items():
        if options is None:
            continue
        inner = here.key(section, name)
        if not isinstance(options, dict):
            raise _error(f"{key}.{name} must be a mapping", inner)
        for option in options:
            if not str(option).startswith("x-"):
                raise _error(
                    f'The compose key "{key}.{name}.{option}" is not supported',
                    inner.key(options, option),
                    f"Interlock makes every {key[:-1]} itself, one per run and stack, labelled and "
                    f"removed afterwards: declare it by name only ({name}: {{}}).")
    return {str(name) for name in section}


def _check(node: Any, allowed: Sequence[str], at: _At, what: str, hint: str) -> None:
    for key in node:
        if str(key).startswith("x-") or key in allowed:
            continue
        close = did_you_mean(str(key), list(allowed))  # 'did you mean "x"? Known: ...'
        guess = "D" + close.split("?")[0][1:] + "? " if close.startswith("did you") else ""
        raise _error(f'The compose {what} "{key}" is not supported', at.key(node, key),
                     guess + hint + "; remove it or move what it does into interlock.yaml.")


def _service(name: str, body: Any, at: _At, project: Path, volumes: set[str],
             enabled: set[str], services: Mapping[str, Any], environ: Mapping[str, str],
             *, job: bool) -> ServiceSpec:
    if not _NAME.match(name):
        raise _error(f'Compose service name "{name}" is not a plain name', at,
                     "Interlock names services with lower-case letters, digits, - and _ (it "
                     "becomes {name.url}); rename it.")
    if not isinstance(body, dict):
        raise _error(f'Compose service "{name}" must be a mapping', at)
    _check(body, SERVICE_KEYS, at, "key", _SUPPORTED)
    image = str(body.get("image") or "")
    build, dockerfile, args, target = _build(body, at, project)
    if not image and not build:
        raise _error(f'Compose service "{name}" has neither image nor build', at,
                     "image: my/service:1.2  or  build: ./service")
    env = _environment(body, at, project, environ)
    ports = _ports(body.get("ports"), at.key(body, "ports")) if "ports" in body else []
    exposed = [_port(item, at.key(body, "expose")) for item in body.get("expose") or []]
    all_ports = list(dict.fromkeys([*ports, *exposed]))
    depends, started = _depends(name, body, at, enabled, services)
    return ServiceSpec(
        name=name, where=str(at),
        docker=DockerForm(
            image=image if not build else "", build=build, dockerfile=dockerfile,
            build_args=args, target=target,
            port=all_ports[0] if all_ports else 0, more_ports=tuple(all_ports[1:]),
            command=_argv(body, "command", at), entrypoint=_argv(body, "entrypoint", at),
            env=env, volumes=_volumes(body, at, project, volumes),
            healthcheck=_healthcheck(body, at), aliases=_aliases(body, at),
            literal=True,
        ),
        depends_on=depends, started_is_enough=started, job=job,
    )


def _build(body: Any, at: _At, project: Path) -> tuple[str, str, dict[str, str], str]:
    if "build" not in body:
        return "", "", {}, ""
    build = body["build"]
    here = at.key(body, "build")
    if not isinstance(build, dict):
        raise _error("build must be a folder or a mapping", here, "build: {context: ./orders}")
    _check(build, BUILD_KEYS, here, "build key", "Interlock builds with context, dockerfile, "
           "args and target")
    context = Path(str(build.get("context") or "."))
    folder = context if context.is_absolute() else project / context
    if not folder.is_dir():
        raise _error(f"The build context {folder} does not exist", here.key(build, "context"),
                     "build.context is a folder relative to the compose file.")
    dockerfile = str(build.get("dockerfile") or "Dockerfile")
    if not (folder / dockerfile).is_file():
        raise _error(f"No {dockerfile} in the build context {folder}", here,
                     "Add it, or name it with build.dockerfile.")
    args = {str(k): "" if v is None else _text(v) for k, v in (build.get("args") or {}).items()}
    return str(folder), dockerfile, {k: v for k, v in args.items() if v}, str(
        build.get("target") or "")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _environment(body: Any, at: _At, project: Path, environ: Mapping[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    files = body.get("env_file") or []
    here = at.key(body, "env_file")
    for item in [files] if isinstance(files, str | dict) else files:
        required = True
        if isinstance(item, dict):
            _check(item, ("path", "required"), here, "env_file key", "path, required")
            required = item.get("required", True) is not False
            item = item.get("path", "")
        path = Path(str(item))
        path = path if path.is_absolute() else project / path
        if not path.is_file():
            if required:
                raise _error(f"The env file {path} does not exist", here,
                             "Create it, or mark it {path: ..., required: false}.")
            continue
        env.update(read_env_file(path, here))
    for key, value in (body.get("environment") or {}).items():
        if value is None:  # taken from the environment Interlock runs in, when set there
            if str(key) in environ:
                env[str(key)] = environ[str(key)]
            continue
        env[str(key)] = _text(value)
    return env


def _port(item: Any, at: _At) -> int:
    text = str(item)
    number, _, protocol = text.partition("/")
    if protocol and protocol != "tcp":
        raise _error(f"Port {text}: only TCP ports are published", at,
                     "Interlock publishes TCP ports on 127.0.0.1; remove the UDP port.")
    if not number.isdigit():
        raise _error(f"Port {text} is not a port number", at,
                     "Give one container port (ranges are not supported).")
    return int(number)


def _ports(items: Any, at: _At) -> list[int]:
    """The container side of each ``ports`` entry; the host side is always a free port."""
    found = []
    for item in items or []:
        if isinstance(item, dict):
            _check(item, PORT_KEYS, at, "port key", "target, published, host_ip, protocol")
            if str(item.get("protocol", "tcp")) != "tcp":
                raise _error("Only TCP ports are published", at, "Remove the UDP port.")
            found.append(_port(item.get("target"), at))
        else:
            found.append(_port(str(item).rsplit(":", 1)[-1], at))
    return found


def _argv(body: Any, key: str, at: _At) -> tuple[str, ...]:
    value = body.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(shlex.split(value))
    if isinstance(value, list):
        return tuple(_text(part) for part in value)
    raise _error(f"{key} must be a text or a list", at.key(body, key))


def _volumes(body: Any, at: _At, project: Path, declared: set[str]) -> dict[str, str]:
    mounts: dict[str, str] = {}
    here = at.key(body, "volumes")
    for index, item in enumerate(body.get("volumes") or []):
        if isinstance(item, dict):
            _check(item, VOLUME_KEYS, here, "volume key", "type (bind or volume), source, "
                   "target, read_only")
            kind = str(item.get("type", "volume"))
            if kind not in ("bind", "volume"):
                raise _error(f"Volume type {kind} is not supported", here,
                             "Use a bind mount or a named volume.")
            source, target = str(item.get("source") or ""), str(item.get("target") or "")
            mode = "ro" if item.get("read_only") else "rw"
        else:
            parts = str(item).split(":")
            if len(parts) == 1:
                source, target, mode = "", parts[0], "rw"
            else:
                source, target, mode = parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"
        if not target.startswith("/"):
            raise _error(f"Volume {item!r}: the container path must be absolute", here)
        if not source:  # anonymous: a volume of its own, removed with the run
            source = f"anonymous-{index}"
        elif source.startswith((".", "/", "~")):
            path = Path(source).expanduser()
            source = str(path if path.is_absolute() else (project / path).resolve())
        elif source not in declared:
            raise _error(f'Volume "{source}" is not declared under the top-level volumes',
                         here, f"Add it:\nvolumes:\n  {source}: {{}}")
        mounts[source] = f"{target}:{mode}"
    return mounts


def _duration(value: Any, at: _At) -> int:
    """A compose duration (``1m30s``, ``500ms``) in nanoseconds."""
    text = str(value)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise _error(f"{text!r} is not a duration", at, "e.g. 1s, 500ms, 1m30s")
    scale = {"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
    return int(sum(float(n) * scale[u] for n, u in parts))


def _healthcheck(body: Any, at: _At) -> Mapping[str, Any] | None:
    check = body.get("healthcheck")
    if check is None:
        return None
    here = at.key(body, "healthcheck")
    if not isinstance(check, dict):
        raise _error("healthcheck must be a mapping", here)
    _check(check, HEALTHCHECK_KEYS, here, "healthcheck key", ", ".join(HEALTHCHECK_KEYS))
    if check.get("disable"):
        return {"test": ["NONE"]}
    test = check.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if not isinstance(test, list) or not test:
        raise _error("healthcheck.test must be a command", here.key(check, "test"),
                     'test: ["CMD", "pg_isready"]  or  test: curl -f http://localhost/health')
    result: dict[str, Any] = {"test": [_text(part) for part in test]}
    for key in ("interval", "timeout", "start_period"):
        if key in check:
            result[key] = _duration(check[key], here.key(check, key))
    if "retries" in check:
        retries = check["retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise _error(f"healthcheck.retries must be a whole number, not {retries!r}",
                         here.key(check, "retries"), "retries: 5")
        result["retries"] = retries
    return result


def _aliases(body: Any, at: _At) -> tuple[str, ...]:
    networks = body.get("networks")
    if not isinstance(networks, dict):
        return ()
    aliases: list[str] = []
    for name, options in networks.items():
        if isinstance(options, dict):
            _check(options, ("aliases",), at.key(networks, name), "network key",
                   "One network per stack: only aliases are taken")
            aliases.extend(str(alias) for alias in options.get("aliases") or [])
    return tuple(aliases)


def _depends(name: str, body: Any, at: _At, enabled: set[str],
             services: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    depends: list[str] = []
    started: list[str] = []
    here = at.key(body, "depends_on")
    for dep, options in (body.get("depends_on") or {}).items():
        dep = str(dep)
        options = options or {}
        inner = here.key(body.get("depends_on"), dep)
        _check(options, DEPENDS_KEYS, inner, "depends_on key", "condition and required")
        condition = str(options.get("condition", "service_started"))
        if condition not in CONDITIONS:
            raise _error(f'Unknown depends_on condition "{condition}"', inner,
                         did_you_mean(condition, CONDITIONS))
        if dep not in services:
            raise _error(f'Service "{name}" depends on unknown service "{dep}"', inner,
                         did_you_mean(dep, list(services)))
        if dep not in enabled:
            if options.get("required") is False:
                continue
            raise _error(f'Service "{name}" depends on "{dep}", whose profiles are not enabled',
                         inner, "Enable one of its profiles (compose: {profiles: [...]} or "
                         "COMPOSE_PROFILES), or mark the dependency required: false.")
        depends.append(dep)
        if condition == "service_started":
            started.append(dep)
    return tuple(depends), tuple(started)


# --- the stack file's compose: and services: together ---------------------------------------

COMPOSE_FIELDS = block("compose").names


def compose_services(config: SuiteConfig, warn: Callable[[str], None] = lambda line: None,
                     ) -> dict[str, ServiceSpec]:
    """The services of the compose files the stack file names (``compose:``); the stack
    file's own settings are laid over them by ``spec.stack_services``."""
    files, profiles = _compose_setting(config)
    return load_compose(files, profiles=profiles, where=config.where("compose"), warn=warn)


def _compose_setting(config: SuiteConfig) -> tuple[list[Path], list[str]]:
    value = config.data["compose"]
    where = config.where("compose")
    profiles: list[str] = []
    if isinstance(value, dict):
        check_keys(value, COMPOSE_FIELDS, where, "compose")
        profiles = [str(p) for p in _texts(value.get("profiles"), where, "compose.profiles")]
        value = value.get("files")
    files = _texts(value, where, "compose")
    if not files:
        raise InterlockError("compose names no file", where=where,
                             hint="compose: docker-compose.test.yaml  (or a list, merged in "
                             "order)")
    return [config.root / str(f) for f in files], profiles


def _texts(value: Any, where: str, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InterlockError(f"{what} must be a file name or a list of them", where=where)
