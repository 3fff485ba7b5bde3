"""An HTTP client for the demo whose every response is checked against its OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import requests
from jsonschema import Draft202012Validator
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from referencing import Registry, Resource

from demo.service import CONTRACTS


class ContractBroken(AssertionError):
    """A response that its service's OpenAPI document does not allow."""


class Api:
    """``api.call("orders", "POST", "/orders", user="alice", json={...})`` -> requests.Response.

    ``base`` sends the request to another instance of the service (same contract).
    """

    def __init__(self, urls: dict[str, str], password: str) -> None:
        self.urls = urls
        self.password = password
        self.contracts = {name: OpenAPI.from_file_path(str(CONTRACTS / f"{name}.openapi.yaml"))
                          for name in urls}
        self.tokens: dict[str, str] = {}
        self.checked = 0

    def token(self, user: str) -> str:
        if user not in self.tokens:
            answer = self.call("auth", "POST", "/auth/login",
                               json={"username": user, "password": self.password})
            assert answer.status_code == 200, answer.text
            self.tokens[user] = answer.json()["access_token"]
        return self.tokens[user]

    def call(self, service: str, method: str, path: str, *, user: str | None = None,
             token: str | None = None, headers: dict[str, str] | None = None,
             base: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(headers or {})
        if user is not None:
            token = self.token(user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        answer = requests.request(method, (base or self.urls[service]) + path, headers=headers,
                                  timeout=15, **kwargs)
        self.check(service, answer)
        return answer

    def check(self, service: str, answer: requests.Response) -> None:
        """Raise ContractBroken unless the document allows this status, headers and body."""
        try:
            self.contracts[service].validate_response(RequestsOpenAPIRequest(answer.request),
                                                      RequestsOpenAPIResponse(answer))
        except Exception as error:
            causes = getattr(error, "__cause__", None)
            details = getattr(causes, "schema_errors", None) or [causes]
            raise ContractBroken(
                f"{service}: {answer.request.method} {answer.request.path_url} -> "
                f"{answer.status_code} breaks {service}.openapi.yaml: {error}; "
                f"{'; '.join(str(d) for d in details if d)}\nbody: {answer.text[:500]}"
            ) from error
        self.checked += 1


def _schemas() -> Registry:
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text())))
                 for path in CONTRACTS.glob("*.schema.json")]
    return Registry().with_resources(resources)


SCHEMAS = _schemas()


def check_event(schema_file: str, body: dict[str, Any]) -> None:
    """Raise AssertionError listing every way ``body`` breaks ``contracts/<schema_file>``."""
    schema = SCHEMAS.contents(schema_file)
    validator = Draft202012Validator(schema, registry=SCHEMAS,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(body)]
    assert not problems, f"event breaks {schema_file}: {problems}\n{body}"
