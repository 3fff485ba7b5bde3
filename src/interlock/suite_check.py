"""The whole stack file checked once, before any service starts.

Each capability parses its own section; without this pass some sections would be read only
when a step first needs them (a database's ``cleanup``, a broker's url, a user's login, an
OpenAPI document), so a typo would pass the start and break a scenario halfway through a
run. ``check_suite`` reads them all up front, the same way for ``interlock config`` and for
the start of a run, and every mistake names the stack file's line.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "environment").mkdir()
    >>> _ = (root / "environment" / "interlock.yaml").write_text(
    ...     "databases:\\n  main: {url: 'sqlite://', cleanup: trackd}\\n")
    >>> from interlock.suite import Suite
    >>> Suite.load(root / "environment" / "interlock.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    interlock._core.errors.InterlockError: Unknown cleanup "trackd" for database "main"
      where: ...interlock.yaml:2 (databases.main.cleanup)
      hint:  did you mean "tracked"? Known: "template", "tracked", "truncate"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from interlock._core.config import Located, field_where, typed
from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.extras import MissingExtra, requires
from interlock._core.stackfile import block as definition
from interlock._core.stackfile.model import TEXT_OR_TEXTS, TEXTS, Choice
from interlock._core.values import Scope, render

if TYPE_CHECKING:
    from interlock.auth.config import AuthConfig
    from interlock.stack.spec import ServiceSpec
    from interlock.suite import Suite

# `{secrets.name}`, `{secrets.name|default}` (a default makes a missing secret fine).
_SECRET_USE = re.compile(r"(?<!\{)\{secrets\.([\w.\-]+)(\|[^{}]*)?\}")

# `{name.attribute}` without a default: a service's address, or env, fake, secrets.
_DOTTED = re.compile(r"(?<!\{)\{([A-Za-z_][\w\-]*)\.[\w.\-]+\}")

# The scheme a service's `{name.url}` stands for in a broker block, to check the block before
# the services have addresses (the adapters refuse a url of the wrong scheme).
_SCHEMES = {"nats": "nats", "rabbitmq": "amqp", "redis": "redis", "mqtt": "mqtt",
            "webhook": "http", "kafka": "kafka"}


# The database drivers, each an extra: SQLAlchemy and SQLite are in the core.
_DRIVERS = {"postgresql": ("psycopg", "postgres"), "postgres": ("psycopg", "postgres"),
            "mysql": ("pymysql", "mysql"), "mariadb": ("pymysql", "mysql")}


def check_suite(suite: Suite) -> None:
    """Check every section of ``suite``'s stack file; the first mistake is raised.

    What ``Suite`` parses as it is built (services, stacks, events, secrets) is already
    checked; this adds the dependencies, the secrets the file uses, the stubs' and the delay
    proxies' scenario headers (kept in ``suite.scenario_headers`` and
    ``suite.delay_headers``), auth, brokers,
    databases, the OpenAPI documents and the event schemas (the documents are kept, so they
    are parsed once per run).
    """
    _check_settings(suite, "suite")
    _check_settings(suite, "report")
    _check_dependencies(suite)
    _check_secret_uses(suite)
    suite.scenario_headers = _check_stubs(suite)
    suite.delay_headers = {name: spec.delay_header for name, spec in suite.services.items()
                           if spec.delay_header}
    if suite.section("auth"):  # (the auth, broker, database and contract modules are
        suite.auth_config = _check_auth(suite)  # imported only for a file that has them)
    _check_brokers(suite)
    _check_databases(suite)
    _check_openapi(suite)
    _check_event_schemas(suite)


def _check_settings(suite: Suite, section: str) -> None:
    """A section of plain settings (``suite``, ``report``): known fields, of their type."""
    data = suite.config.section(section)
    where = suite.config.where(section)
    fields = definition(section)
    for key in data:
        if key not in fields.names:
            raise InterlockError(f'Unknown field "{key}" in {section}',
                                 where=field_where(where, data, key),
                                 hint=did_you_mean(key, fields.names))
    for f in fields.fields:
        if isinstance(f.type, Choice):
            value = data.get(f.name)
            if value is not None and value not in f.type.values:
                raise InterlockError(
                    f'"{f.name}" must be one of {", ".join(map(str, f.type.values))}, '
                    f"not {value!r}", where=field_where(where, data, f.name),
                    hint=did_you_mean(str(value), [str(v) for v in f.type.values]))
        elif f.type in (TEXTS, TEXT_OR_TEXTS):
            kinds = (list,) if f.type is TEXTS else (str, list)
            typed(data, f.name, where, kinds, items=str)
        else:
            typed(data, f.name, where, str)


def _check_stubs(suite: Suite) -> dict[str, str]:
    """The stubs' ``scenario_header`` options (each the name of an HTTP header), by stub."""
    found: dict[str, str] = {}
    for name, spec in suite.services.items():
        if spec.kind == "stub" and "scenario_header" in spec.options:
            from interlock.stack.kinds.stub import scenario_header

            try:
                found[name] = str(scenario_header(name, spec.options))
            except InterlockError as err:
                err.where = _stack_file_where(suite, spec, suite.section("services"), "options")
                raise
    return found


def _stack_file_where(suite: Suite, spec: ServiceSpec, section: Mapping[str, Any],
                      key: str) -> str:
    """Where a service's field is written: the stack file for its own services and the
    settings it lays over a compose service, else the compose file."""
    if spec.name in section:
        return suite.config.where("services", spec.name, key)
    return field_where(spec.where, None, key)


def _check_dependencies(suite: Suite) -> None:
    section = suite.config.section("services")
    for name, spec in suite.services.items():
        for dep in spec.depends_on:
            if dep not in suite.services:
                raise InterlockError(
                    f'Service "{name}" depends on unknown service "{dep}"',
                    where=_stack_file_where(suite, spec, section, "depends_on"),
                    hint=did_you_mean(dep, list(suite.services)),
                )


def _check_secret_uses(suite: Suite) -> None:
    known = list(suite.config.section("secrets"))
    for where, text in _texts(suite.config.data, str(suite.config.path), skip=("secrets",
                                                                              "stages")):
        for match in _SECRET_USE.finditer(text):
            name = match.group(1)
            if match.group(2) or name in known:
                continue
            path = re.search(r"\(([^)]*)\)$", where)
            dotted = path.group(1) if path else ""
            user = re.match(r"auth\.users\.([^.]+)", dotted)
            who = f'User "{user.group(1)}"' if user else f'"{dotted}"'
            raise InterlockError(
                f'{who} uses an unknown secret "{name}"', where=where,
                hint=(did_you_mean(name, known) if known else "No secrets are declared")
                + f'. Declare it under secrets: in the stack file, e.g. {name}: '
                f'"{{env.{name.upper().replace("-", "_")}}}"',
            )


def _texts(node: Any, where: str, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every text in a configuration tree with the ``where`` of the field that holds it."""
    found: list[tuple[str, str]] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key not in skip:
                found += _texts(value, field_where(where, node, str(key)))
    elif isinstance(node, list):
        for item in node:
            found += _texts(item, where)
    elif isinstance(node, str):
        found.append((where, node))
    return found


def _check_auth(suite: Suite) -> AuthConfig:
    from interlock.auth.config import AuthConfig, LoginFlow, OAuth2Flow

    where = suite.config.where("auth")
    config = AuthConfig.from_dict(suite.section("auth"), where)
    users = suite.config.section("auth").get("users") or {}
    for name, user in config.users.items():
        flow = user.flow
        service = flow.service if isinstance(flow, LoginFlow | OAuth2Flow) else None
        if service and service not in suite.services:
            raise InterlockError(
                f'User "{name}" logs in at unknown service "{service}"',
                where=field_where(field_where(where, suite.section("auth"), "users"), users,
                                  name),
                hint=did_you_mean(service, list(suite.services)),
            )
    signing = config.signing
    if signing is not None and signing.private_key_file:
        key_file = suite.root / signing.private_key_file
        if not key_file.is_file():
            raise InterlockError(
                f"The signing key file {signing.private_key_file} does not exist",
                where=field_where(where, suite.section("auth"), "signing"),
                hint=f"Looked at {key_file} (relative to the suite folder {suite.root}).",
            )
    return config


def _check_brokers(suite: Suite) -> None:
    section = suite.config.section("brokers")
    if not section:
        return
    from interlock.events.config import brokers_from_dict

    where = suite.config.where("brokers")
    for name, block in section.items():
        at = field_where(where, section, name)
        type_name = block.get("type") if isinstance(block, Mapping) else None
        scope = _dry_scope(suite, _SCHEMES.get(str(type_name), "http"))
        rendered = Located({name: _rendered(block, scope, at)})
        rendered.lines = {name: section.lines.get(name, 0)}
        try:
            brokers_from_dict(rendered, where)
        except MissingExtra as err:  # the adapter's client is an extra that is not installed
            raise err.at(field_where(at, block, "type")) from None


def _check_databases(suite: Suite) -> None:
    # Rendered with stand-in addresses, so a misspelt {service.url} is named now.
    if not suite.config.section("databases") and not suite.config.section("data"):
        return
    from interlock.db import DatabasesConfig

    where = suite.config.where("databases")
    rendered = _rendered(suite.config.section("databases"), _dry_scope(suite, "db"), where)
    sections = {"databases": rendered, "data": suite.config.section("data")}
    config = DatabasesConfig.from_dict(sections, str(suite.config.path))
    section = suite.config.section("databases")
    for name, database in config.databases.items():
        scheme = database.url.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme in _DRIVERS:
            package, extra = _DRIVERS[scheme]
            entry = section.get(name)
            at = field_where(where, section, name)
            requires(package, extra=extra, what=f'Database "{name}" ({scheme}://)',
                     where=field_where(at, entry, "url") if isinstance(entry, Mapping) else at)


def _check_openapi(suite: Suite) -> None:
    section = suite.config.section("services")
    for name, spec in suite.services.items():
        if not spec.openapi:
            continue
        from interlock.contracts import OpenApiContract

        at = _stack_file_where(suite, spec, section, "openapi")
        try:
            suite.openapi_contracts[name] = OpenApiContract.load(suite.root / spec.openapi,
                                                                suite.cache_dir)
        except InterlockError as err:
            raise _named_by(err, f'Service "{name}"', at) from None


def _check_event_schemas(suite: Suite) -> None:
    events = suite.config.section("events")
    schemas = events.get("schemas") or {}
    where = field_where(suite.config.where("events"), events, "schemas")
    if not isinstance(schemas, Mapping):
        raise InterlockError('"schemas" must be a mapping of channel to schema file',
                             where=where, hint="schemas: {orders.created: order.schema.json}")
    for channel, schema in schemas.items():
        at = field_where(where, schemas, str(channel))
        if not isinstance(schema, str):
            raise InterlockError(f'The schema of "{channel}" must be a file name', where=at)
        try:
            suite.schemas.validator(schema)
        except InterlockError as err:
            raise _named_by(err, f'Events on "{channel}"', at) from None


def _named_by(err: InterlockError, who: str, where: str) -> InterlockError:
    """``err`` about a file, said from the stack file's line that names the file."""
    details = "\n".join(part for part in (err.details, f"in: {err.where}" if err.where else "")
                        if part)
    return InterlockError(f"{who}: {err.title}", details, where=where, hint=err.hint)


def _dry_scope(suite: Suite, scheme: str) -> Scope:
    """The suite's names, with every service's address a stand-in (nothing runs yet)."""
    scope = suite.scope.child()
    stand_in = {"url": f"{scheme}://127.0.0.1:1", "host": "127.0.0.1", "port": "1"}
    for name in suite.services:
        scope.namespaces[name] = lambda attribute: stand_in.get(attribute, "x")
    return scope


def _rendered(value: Any, scope: Scope, where: str) -> Any:
    """``value`` with its texts rendered; mappings keep their lines for the messages."""
    if isinstance(value, Mapping):
        out = Located({key: _rendered(item, scope, field_where(where, value, str(key)))
                       for key, item in value.items()})
        out.lines = dict(getattr(value, "lines", {}))
        out.line = getattr(value, "line", 0)
        return out
    if isinstance(value, list):
        return [_rendered(item, scope, where) for item in value]
    if isinstance(value, str):
        for match in _DOTTED.finditer(value):
            head = match.group(1)
            if head not in scope.namespaces and match.group(0)[1:-1] not in scope.variables:
                services = [n for n in scope.namespaces if n not in ("env", "fake", "secrets")]
                raise InterlockError(
                    f'Unknown service "{head}" in {match.group(0)}', where=where,
                    hint=did_you_mean(head, services)
                    + "; other values are {env.NAME} and {secrets.name}",
                )
        return render(value, scope, where)
    return value
