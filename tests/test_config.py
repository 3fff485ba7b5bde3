"""The stack file: every bad field is named with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from interlock._core.config import find_config
from interlock._core.errors import InterlockError
from interlock.suite import Suite

ROOT = Path(__file__).resolve().parent.parent


def write_config(suite_dir: Path, text: str) -> Path:
    path = suite_dir / "environment" / "interlock.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load(suite_dir: Path, text: str) -> Suite:
    suite = Suite.load(write_config(suite_dir, text), progress=lambda line: None)
    suite.close()
    return suite


@pytest.mark.parametrize(("text", "message", "line"), [
    ("servics:\n  a: {}\n", 'Unknown section "servics"', 1),
    ("services:\n  auth:\n    proces: {command: x}\n", 'Unknown field "proces"', 3),
    ("services:\n  auth:\n    kind: postgress\n", 'Unknown kind "postgress"', 3),
    ("services:\n  auth:\n    env: {A: 1}\n", 'Service "auth" has no way to run', 2),
    ("services:\n  auth:\n    process: {cwd: x}\n", "process needs a command", 3),
    ("services:\n  auth:\n    kind: nats\n    ready: {log: '('}\n", "not a valid regex", 4),
    ("services:\n  a: {kind: nats}\nstacks:\n  small: [b]\n", 'names unknown service "b"', 4),
    ("services:\n  a:\n    kind: nats\n  b: [\n", "not valid YAML", 5),
    ("services: {}\nstages:\n  ci:\n    servics: {}\n", 'Unknown section "servics" in stage "ci"',
     4),
    ("services:\n  pay:\n    kind: stub\n    options: {scenario_header: 'trace parent'}\n",
     'The scenario_header of stub "pay" is not the name of an HTTP header', 4),
    ("services:\n  pay:\n    kind: stub\n    options: {scenario_header: Authorization}\n",
     'The scenario_header of stub "pay" cannot be Authorization: it carries credentials', 4),
])
def test_bad_field_is_named_with_its_line(suite_dir: Path, text: str, message: str,
                                          line: int) -> None:
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    rendered = str(caught.value)
    assert message in rendered
    assert f"interlock.yaml:{line}" in rendered


def test_did_you_mean_for_a_misspelt_field(suite_dir: Path) -> None:
    with pytest.raises(InterlockError, match='did you mean "depends_on"'):
        load(suite_dir, "services:\n  a:\n    kind: nats\n    depend_on: [b]\n")


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(InterlockError, match="Configuration file not found"):
        Suite.load(tmp_path / "environment" / "interlock.yaml")


def test_stage_overrides_and_env_backend(suite_dir: Path, monkeypatch) -> None:
    path = write_config(suite_dir, """
        suite: {backend: process}
        services:
          api: {external: "http://127.0.0.1:1"}
        stages:
          staging:
            services:
              api: {external: "http://127.0.0.1:2"}
    """)
    monkeypatch.setenv("INTERLOCK_STAGE", "staging")
    monkeypatch.setenv("INTERLOCK_BACKEND", "external")
    suite = Suite.load(path, progress=lambda line: None)
    try:
        assert suite.backend == "external"
        assert "external" in suite.services["api"].forms
        assert suite.services["api"].forms["external"].url == "http://127.0.0.1:2"
    finally:
        suite.close()
    monkeypatch.setenv("INTERLOCK_STAGE", "prod")
    with pytest.raises(InterlockError, match=r'(?s)Unknown stage "prod".*staging'):
        Suite.load(path)


# -- the whole file, checked up front (issue 9, section 4) ----------------------------------

@pytest.mark.parametrize(("text", "message", "line", "hint"), [
    # databases: read before any step needs them, every valid value listed
    ("databases:\n  main:\n    url: sqlite://\n    cleanup: trackd\n",
     'Unknown cleanup "trackd" for database "main"', 4,
     'did you mean "tracked"? Known: "template", "tracked", "truncate"'),
    ("databases:\n  main: {url: 'sqlite://', reset: always}\n",
     'Unknown reset "always"', 2, '"feature", "scenario"'),
    ("services:\n  db: {kind: postgres}\ndatabases:\n  main:\n    url: '{dbb.url}/orders'\n",
     'Unknown service "dbb" in {dbb.url}', 5, 'did you mean "db"'),
    # brokers: checked with stand-in addresses, before the stack runs
    ("services:\n  nats: {kind: nats}\nbrokers:\n  bus:\n    type: natz\n",
     'unknown broker type "natz"', 5, 'did you mean "nats"'),
    ("services:\n  nats: {kind: nats}\nbrokers:\n  bus:\n    type: nats\n"
     "    url: '{nats.url}'\n    stream: [ORDERS]\n", 'unknown setting "stream"', 7,
     'did you mean "streams"'),
    ("services:\n  nats: {kind: nats}\nbrokers:\n  bus:\n    type: nats\n"
     "    url: '{nast.url}'\n", 'Unknown service "nast" in {nast.url}', 6, 'did you mean "nats"'),
    ("brokers:\n  bus: {type: nats, url: 'http://127.0.0.1:1'}\n", "must be a nats:// URL", 2,
     ""),
    # auth: a user's flow, and the service it logs in at
    ("services:\n  auth: {external: 'http://127.0.0.1:1'}\nauth:\n  users:\n"
     "    alice:\n      login: {service: auth, path: /login, jsn: {}}\n",
     'unknown key "jsn"', 5, 'did you mean "json"'),
    ("services:\n  auth: {external: 'http://127.0.0.1:1'}\nauth:\n  users:\n"
     "    alice:\n      login: {service: auht, path: /login, json: {}}\n",
     'User "alice" logs in at unknown service "auht"', 5, 'did you mean "auth"'),
    # depends_on names a service that does not exist
    ("services:\n  nats: {kind: nats}\n  a:\n    kind: nats\n    depends_on: [nast]\n",
     'Service "a" depends on unknown service "nast"', 5, 'did you mean "nats"'),
])
def test_every_section_is_checked_before_anything_starts(
        suite_dir: Path, text: str, message: str, line: int, hint: str) -> None:
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    rendered = str(caught.value)
    assert message in rendered
    assert f"interlock.yaml:{line}" in rendered
    assert hint in caught.value.hint


def test_an_unknown_secret_used_by_a_user_speaks_of_secrets(suite_dir: Path) -> None:
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, """
            secrets: {password: "{uuid}"}
            services:
              auth: {external: "http://127.0.0.1:1"}
            auth:
              users:
                alice:
                  basic: {username: alice, password: "{secrets.pasword}"}
        """)
    err = caught.value
    assert err.title == 'User "alice" uses an unknown secret "pasword"'
    assert "interlock.yaml:8 (auth.users.alice.basic.password)" in err.where
    assert 'did you mean "password"' in err.hint
    assert "secrets:" in err.hint
    assert "url, host, port" not in str(err) and "service" not in err.hint


def test_a_secret_with_a_default_or_a_known_one_is_fine(suite_dir: Path) -> None:
    load(suite_dir, """
        secrets: {password: "{uuid}"}
        services:
          api: {external: "http://127.0.0.1:1", env: {A: "{secrets.token|none}"}}
        auth:
          users:
            alice: {basic: {username: alice, password: "{secrets.password}"}}
    """)


def test_openapi_documents_are_parsed_at_start_naming_the_service(suite_dir: Path) -> None:
    (suite_dir / "contracts").mkdir()
    (suite_dir / "contracts" / "orders.yaml").write_text("openapi: 3.1.0\npaths: [\n")
    text = """
        services:
          orders:
            external: "http://127.0.0.1:1"
            openapi: contracts/orders.yaml
          auth:
            external: "http://127.0.0.1:1"
            openapi: contracts/missing.yaml
    """
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    assert caught.value.title.startswith('Service "orders": Invalid YAML in OpenAPI document')
    assert "interlock.yaml:5 (services.orders.openapi)" in caught.value.where
    (suite_dir / "contracts" / "orders.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: o, version: '1'}\npaths: {}\n")
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    assert caught.value.title == 'Service "auth": OpenAPI document missing.yaml not found'
    assert "interlock.yaml:8 (services.auth.openapi)" in caught.value.where


def test_event_schemas_are_parsed_at_start_naming_the_line(suite_dir: Path) -> None:
    (suite_dir / "contracts").mkdir()
    (suite_dir / "contracts" / "created.schema.json").write_text('{"type": "objekt"}')
    text = """
        suite: {contracts: [contracts]}
        events:
          schemas:
            orders.created: created.schema.json
            orders.paid: paid.schema.json
    """
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    assert caught.value.title.startswith('Events on "orders.created": Invalid schema')
    assert "interlock.yaml:5 (events.schemas.orders.created)" in caught.value.where
    (suite_dir / "contracts" / "created.schema.json").write_text('{"type": "object"}')
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    assert caught.value.title == 'Events on "orders.paid": Schema file "paid.schema.json" not found'
    assert "interlock.yaml:6" in caught.value.where


@pytest.mark.parametrize(("text", "message", "line", "hint"), [
    ("services:\n  a:\n    kind: nats\n    depends_on: 5\n",
     '"depends_on" must be a service name, a list of them or a mapping '
     '{service: ready|started}, not the number 5', 4, ""),
    ("services:\n  a:\n    kind: nats\n    depends_on: [b, 3]\n",
     '"depends_on" must be a list of text, but item 2 is the number 3', 4, ""),
    ("services:\n  a:\n    external: http://127.0.0.1:1\n    check_contract: \"no\"\n",
     '"check_contract" must be true or false, not the text "no"', 4,
     "Write check_contract: false (without quotes)."),
    ("services:\n  a:\n    kind: nats\n    delay_proxy: 1\n",
     '"delay_proxy" must be true, false or {scenario_header: <header>}, not the number 1', 4,
     ""),
    ("services:\n  a:\n    kind: nats\n    delay_proxy: {scenario_header: trace id}\n",
     'The delay_proxy.scenario_header of service "a" is not the name of an HTTP header: '
     "'trace id'", 4, "Name the header the service's callers pass on from the test's "
     "request, e.g. scenario_header: traceparent (the W3C trace context)."),
    ("services:\n  a:\n    kind: nats\n    delay_proxy: {}\n",
     'The delay_proxy of service "a" is a mapping without scenario_header', 4,
     "Write delay_proxy: true, or delay_proxy: {scenario_header: traceparent} (the header the "
     "service's callers pass on from the test's request)."),
    ("services:\n  a:\n    kind: nats\n    ready: {http: /h, status: ok}\n",
     '"status" must be a whole number, not the text "ok"', 4, ""),
    ("services:\n  a:\n    docker: {image: x, port: 80a}\n",
     '"port" must be a whole number, not the text "80a"', 3, ""),
    ("services:\n  a:\n    kind: [nats]\n", '"kind" must be text, not a list', 3, ""),
])
def test_field_types_are_checked(suite_dir: Path, text: str, message: str, line: int,
                                 hint: str) -> None:
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    assert caught.value.title == message
    assert f"interlock.yaml:{line}" in caught.value.where
    assert caught.value.hint == hint


@pytest.mark.parametrize(("text", "key", "line", "first"), [
    ("services:\n  a: {kind: nats}\n  b: {kind: redis}\n  a: {kind: redis}\n", "a", 4, 2),
    ("services:\n  a:\n    kind: nats\n    env:\n      X-Trace: 1\n      X-Trace: 2\n",
     "X-Trace", 6, 5),
    ("services:\n  a: {kind: nats, env: {A: 1, A: 2}}\n", "A", 2, 2),
    ("variables: {}\nservices: {}\nvariables: {}\n", "variables", 3, 1),
])
def test_a_duplicate_key_is_an_error_naming_both_lines(suite_dir: Path, text: str, key: str,
                                                       line: int, first: int) -> None:
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    assert caught.value.title == f'Duplicate key "{key}" in the configuration'
    assert caught.value.where.endswith(f"interlock.yaml:{line}")
    assert f"already set on line {first}" in caught.value.hint


def test_a_key_overriding_a_merged_one_is_not_a_duplicate(suite_dir: Path) -> None:
    suite = Suite.load(write_config(suite_dir, """
        services:
          a: &base {external: "http://127.0.0.1:1", delay_proxy: false}
          b:
            <<: *base
            external: "http://127.0.0.1:2"
    """), progress=lambda line: None)
    suite.close()
    assert "external" in suite.services["b"].forms
    assert suite.services["b"].forms["external"].url == "http://127.0.0.1:2"


def test_a_stack_file_that_is_not_utf8_names_the_line(suite_dir: Path) -> None:
    path = suite_dir / "environment" / "interlock.yaml"
    path.write_bytes("variables:\n  city: M\u00fcnchen\n".encode("latin-1"))
    with pytest.raises(InterlockError) as caught:
        Suite.load(path)
    assert caught.value.title == "The configuration file is not UTF-8 text (byte 0xfc)"
    assert caught.value.where == f"{path}:2"
    assert "UTF-8" in caught.value.hint


@pytest.mark.parametrize("given", ["", "  "])
def test_an_empty_config_setting_is_an_error(suite_dir: Path, given: str) -> None:
    with pytest.raises(InterlockError, match=r"The setting interlock\.config is empty"):
        find_config(given, suite_dir)


def test_a_folder_as_the_config_is_an_error(suite_dir: Path) -> None:
    with pytest.raises(InterlockError) as caught:
        find_config(str(suite_dir / "environment"), suite_dir)
    assert caught.value.title == (
        f"The configuration path is a folder, not a file: {suite_dir / 'environment'}")
    with pytest.raises(InterlockError, match="is a folder, not a file"):
        Suite.load(suite_dir / "environment")


def test_the_config_is_found_from_the_suite_folder_not_the_working_one(
        suite_dir: Path, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(suite_dir, "services: {}\n")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    assert find_config(None, suite_dir) == path
    assert find_config("environment/interlock.yaml", suite_dir) == path
    with pytest.raises(InterlockError) as caught:
        find_config("environment/other.yaml", suite_dir)
    assert caught.value.title == "Configuration file not found: environment/other.yaml"
    assert str(elsewhere / "environment" / "other.yaml") in caught.value.details
    assert str(suite_dir / "environment" / "other.yaml") in caught.value.details


def test_the_repositorys_own_stack_files_still_load() -> None:
    for path in [ROOT / "environment" / "interlock.yaml",
                 *sorted((ROOT / "tests").rglob("interlock*.yaml"))]:
        Suite.load(path, progress=lambda line: None).close()


def test_a_stage_removes_what_it_sets_to_null(suite_dir: Path, monkeypatch) -> None:
    path = write_config(suite_dir, """
        services:
          nats: {kind: nats}
          bus: {kind: kafka}
        brokers:
          nats: {type: nats, url: "{nats.url}", streams: [ORDERS]}
        stages:
          kafka:
            brokers:
              nats: null
              bus: {type: kafka, url: "{bus.url}"}
    """)
    monkeypatch.setenv("INTERLOCK_STAGE", "kafka")
    suite = Suite.load(path, progress=lambda line: None)
    try:
        assert list(suite.section("brokers")) == ["bus"]
    finally:
        suite.close()
