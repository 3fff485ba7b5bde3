"""The contracts are valid documents, the services serve them, and they catch drift."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid

import pytest
import requests
import yaml
from demo_client import Api, ContractBroken
from demo_stack import ROOT, Demo, wait_until
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from demo.service import CONTRACTS

SERVICES = ("auth", "orders", "notifications", "analytics")


@pytest.mark.parametrize("service", SERVICES)
def test_each_openapi_document_is_valid_and_served(service: str, api: Api) -> None:
    text = (CONTRACTS / f"{service}.openapi.yaml").read_text()
    document = yaml.safe_load(text)
    validate(document)
    assert document["openapi"] == "3.1.0"
    served = api.call(service, "GET", "/openapi.yaml")
    assert served.status_code == 200 and served.text == text
    health = api.call(service, "GET", "/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_each_event_schema_is_valid_2020_12() -> None:
    names = sorted(path.name for path in CONTRACTS.glob("*.schema.json"))
    assert names == ["common.schema.json", "dead-letter.schema.json",
                     "notification-sent.schema.json", "order-assigned.schema.json",
                     "order-completed.schema.json", "order-created.schema.json",
                     "order-started.schema.json"]
    for name in names:
        schema = json.loads((CONTRACTS / name).read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_the_contract_check_catches_a_response_that_drifted(api: Api) -> None:
    answer = api.call("auth", "POST", "/auth/login",
                      json={"username": "alice", "password": "pw-for-tests"})
    body = answer.json()
    del body["role"]
    answer._content = json.dumps(body).encode()
    with pytest.raises(ContractBroken, match="role"):
        api.check("auth", answer)
    answer.status_code = 418  # a status the document does not list
    with pytest.raises(ContractBroken):
        api.check("auth", answer)


def run_briefly(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("AUTH_", "ORDERS_", "NATS_"))}
    return subprocess.run([sys.executable, "-m", module, "--port", "1"], cwd=ROOT, text=True,
                          capture_output=True, timeout=60,
                          env={**clean, "PYTHONPATH": str(ROOT), **env})


def test_bad_configuration_stops_a_service_with_the_variable_named() -> None:
    cases = [
        ("demo.auth", {}, "AUTH_JWT_SECRET is not set"),
        ("demo.auth", {"AUTH_JWT_SECRET": "short"}, "at least 32 bytes"),
        ("demo.orders", {"AUTH_URL": "http://127.0.0.1:1"}, "ORDERS_DATABASE_URL, NATS_URL"),
        ("demo.orders", {"ORDERS_DATABASE_URL": "postgresql://x", "AUTH_URL": "http://x",
                         "NATS_URL": "nats://x", "ORDERS_RATE_LIMIT": "lots"},
         "ORDERS_RATE_LIMIT"),
    ]
    for module, env, message in cases:
        finished = run_briefly(module, **env)
        assert finished.returncode != 0 and message in finished.stderr, finished.stderr


def test_health_is_503_until_the_database_exists(demo: Demo, api: Api) -> None:
    name = f"late_{uuid.uuid4().hex[:8]}"
    with contextlib.ExitStack() as stack:
        late = demo.server("analytics", stack,
                           ANALYTICS_DATABASE_URL=f"{demo.postgres_url}/{name}")

        def unhealthy() -> list[requests.Response]:
            # a list, because a 503 response is falsy
            return [requests.get(f"{late.url}/health", timeout=1)]

        answer = wait_until(unhealthy, 30, "the late analytics", late.log)[0]
        assert answer.status_code == 503 and answer.json()["status"] == "unavailable"
        assert answer.json()["reason"]
        api.check("analytics", answer)
        with demo.db("postgres") as conn:
            conn.execute(f"CREATE DATABASE {name}")
        late.wait_healthy()
