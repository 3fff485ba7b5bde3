"""JSON Schema files and OpenAPI documents, against fixtures in tests/data/contracts/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from interlock._core.errors import Failure, InterlockError
from interlock._core.secrets import Secrets
from interlock.contracts import Observed, OpenApiContract, SchemaLibrary, check_schema

DATA = Path(__file__).parent / "data" / "contracts"
SCHEMAS = [DATA / "schemas", DATA / "more"]

GOOD_ORDER = {
    "id": "3f2a9c1e-1111-4222-8333-444455556666",
    "status": "pending",
    "customerId": "c-1",
    "items": [{"productId": "p-1", "quantity": 2}],
    "total": 12.5,
}


# --- JSON Schema ---------------------------------------------------------------------------


def test_a_valid_document_passes_with_refs_across_files():
    check_schema(GOOD_ORDER, "order.schema.json", SCHEMAS)


def test_every_violation_is_listed_sorted_by_path_including_those_behind_refs():
    bad = {
        "id": "not-a-uuid",
        "status": "weird",
        "items": [{"productId": "q", "quantity": 0}, {"quantity": "2"}],
        "total": -1,
        "extra": True,
    }
    with pytest.raises(Failure) as caught:
        check_schema(bad, "order.schema.json", SCHEMAS, where="orders.feature:20")
    failure = caught.value
    assert (
        failure.title
        == 'response JSON does not match the schema "order.schema.json" (9 violations)'
    )
    assert failure.where == "orders.feature:20"
    paths = [line.split(": ")[0] for line in failure.details.splitlines() if not line[0].isspace()]
    assert paths == [
        "$",
        "$",
        "$.id",
        "$.items[0].productId",  # item.schema.json
        "$.items[0].quantity",
        "$.items[1]",
        "$.items[1].quantity",
        "$.status",
        "$.total",  # common/money.schema.json#/$defs/amount
    ]
    details = failure.details
    assert "$.items[0].quantity: 0 is less than the minimum of 1" in details
    assert 'keyword "minimum" at #/properties/items/items/properties/quantity/minimum' in details
    assert "'customerId' is a required property" in details
    assert "'extra' was unexpected" in details
    assert 'keyword "format"' in details  # formats are asserted, not just annotations


def test_the_offending_value_is_shown_short():
    bad = {**GOOD_ORDER, "customerId": ["x" * 200]}
    with pytest.raises(Failure) as caught:
        check_schema(bad, "order.schema.json", SCHEMAS)
    value_line = caught.value.details.splitlines()[1]
    assert value_line.startswith('    keyword "type" at #/properties/customerId/type, value: ["xxx')
    assert value_line.endswith("…")
    assert len(value_line) < 120


def test_draft_07_schemas_use_draft_07_rules():
    # "items" as an array is draft-07 tuple validation; 2020-12 would reject the schema.
    check_schema(
        {"name": "Alice", "tier": "gold", "tags": ["a", 1]}, "draft7/customer.schema.json", SCHEMAS
    )
    with pytest.raises(Failure) as caught:
        check_schema(
            {"name": 3, "tags": ["a", "b", "c"], "address": {"city": ""}},
            "draft7/customer.schema.json",
            SCHEMAS,
            what="event",
        )
    failure = caught.value
    assert (
        failure.title
        == 'event does not match the schema "draft7/customer.schema.json" (5 violations)'
    )
    details = failure.details
    assert "$.address.city: '' should be non-empty" in details  # via address.schema.json
    assert "$.tags[1]: 'b' is not of type 'integer'" in details
    assert 'keyword "additionalItems"' in details
    assert "'tier' is a required property" in details


def test_yaml_schemas_with_https_ids_resolve_refs_locally():
    check_schema(
        {"type": "OrderCreated", "orderId": "o-1", "payload": {"amount": 3}},
        "event.schema.yaml",
        SCHEMAS,
    )
    with pytest.raises(Failure, match=r"\$\.payload: 'amount' is a required property"):
        check_schema(
            {"type": "OrderCreated", "orderId": "o-1", "payload": {}}, "event.schema.yaml", SCHEMAS
        )


def test_the_first_folder_that_has_the_file_wins():
    # more/order.schema.json says "type": "string" and would reject an object
    check_schema(GOOD_ORDER, "order.schema.json", SCHEMAS)
    check_schema(7, "only-here.schema.json", SCHEMAS)
    with pytest.raises(Failure):
        check_schema(GOOD_ORDER, "order.schema.json", [DATA / "more", DATA / "schemas"])


def test_a_missing_schema_file_names_every_folder_searched():
    with pytest.raises(InterlockError) as caught:
        check_schema({}, "ordr.schema.json", SCHEMAS, where="orders.feature:3")
    err = caught.value
    assert err.title == 'Schema file "ordr.schema.json" not found'
    assert str(DATA / "schemas") in err.details and str(DATA / "more") in err.details
    assert err.where == "orders.feature:3"


def test_an_unresolvable_ref_is_a_suite_mistake():
    with pytest.raises(InterlockError, match=r"Cannot resolve a \$ref.*nowhere\.schema\.json"):
        check_schema({"a": 1}, "broken-ref.schema.json", SCHEMAS)


def test_an_invalid_schema_is_a_suite_mistake():
    with pytest.raises(InterlockError) as caught:
        check_schema({}, "invalid.schema.json", SCHEMAS)
    assert caught.value.title.startswith("Invalid schema invalid.schema.json: 'strnig'")
    assert caught.value.where.endswith("invalid.schema.json at $.properties.a.type")


def test_a_schema_that_is_not_json_points_at_the_line():
    with pytest.raises(InterlockError) as caught:
        check_schema({}, "bad-syntax.schema.json", SCHEMAS)
    assert caught.value.title.startswith("Invalid JSON in schema")
    assert caught.value.where.endswith("bad-syntax.schema.json:3:1")


def test_an_unknown_schema_dialect_is_a_suite_mistake(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"$schema": "https://example.org/my-draft"}))
    with pytest.raises(InterlockError, match="Unknown \\$schema"):
        check_schema({}, "x.json", [tmp_path])


def test_the_library_compiles_each_file_once(tmp_path):
    shutil.copy(DATA / "more" / "only-here.schema.json", tmp_path / "n.json")
    library = SchemaLibrary([tmp_path])
    library.check(1, "n.json")
    first = library.validator("n.json")
    (tmp_path / "n.json").write_text('{"type": "string"}')  # not re-read: it is cached
    library.check(2, "n.json")
    assert library.validator("n.json") is first
    with pytest.raises(Failure):
        SchemaLibrary([tmp_path]).check(3, "n.json")  # a new library reads the new file


def test_secret_values_are_hidden_in_violations():
    secrets = Secrets()
    secrets.add("tok-abcdef")
    with pytest.raises(Failure) as caught:
        check_schema("tok-abcdef", "only-here.schema.json", SCHEMAS, secrets=secrets)
    assert "tok-abcdef" not in str(caught.value)
    assert "***" in str(caught.value)


# --- OpenAPI -------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


def observed(method, url, status, body=None, headers=None, request_body=b""):
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    return Observed(
        method,
        url,
        {"Accept": "application/json"},
        request_body,
        status,
        JSON if headers is None else headers,
        raw,
    )


ORDER = {"id": "o-1", "status": "pending", "items": [{"productId": "p-1", "quantity": 1}]}


@pytest.fixture(scope="module")
def v30() -> OpenApiContract:
    return OpenApiContract.load(DATA / "openapi" / "orders-3.0.yaml")


@pytest.fixture(scope="module")
def v31() -> OpenApiContract:
    return OpenApiContract.load(DATA / "openapi" / "orders-3.1.json")


def test_documented_operations(v30):
    assert v30.operations == ["POST /orders", "GET /orders/{orderId}", "GET /orders/latest"]


def test_a_valid_response_passes_on_any_host_with_or_without_the_server_prefix(v30):
    # the document says https://api.example.com/v1; the service runs on a loopback port
    v30.check(observed("GET", "http://127.0.0.1:53211/orders/o-1", 200, ORDER))
    v30.check(observed("GET", "http://127.0.0.1:53211/v1/orders/o-1?expand=items", 200, ORDER))
    v30.check(observed("GET", "http://127.0.0.1:53211/orders/o-1", 404, None, {}))
    v30.check(
        observed(
            "POST",
            "http://127.0.0.1:1/orders",
            201,
            ORDER,
            {**JSON, "Location": "/orders/o-1"},
            b'{"customerId": "c-1"}',
        )
    )


def test_nullable_in_3_0(v30):
    v30.check(observed("GET", "http://127.0.0.1:1/orders/o-1", 200, {**ORDER, "note": None}))


def test_concrete_paths_win_over_templates(v30):
    assert str(v30.operation("GET", "/orders/latest")) == "GET /orders/latest"
    assert str(v30.operation("GET", "/orders/o-7")) == "GET /orders/{orderId}"
    assert v30.operation("GET", "/v1/orders/o%207").variables == {"orderId": "o 7"}


def test_an_undocumented_status_is_a_failure_naming_the_operation(v30):
    with pytest.raises(Failure) as caught:
        v30.check(
            observed("GET", "http://127.0.0.1:1/orders/o-1", 500, {"error": "boom"}),
            where="orders.feature:30",
        )
    failure = caught.value
    assert failure.title == (
        "response to GET /orders/{orderId} (status 500) breaks the contract orders-3.0.yaml"
    )
    assert failure.details == "status 500 is not documented (documented: 200, 404)"
    assert failure.where == "orders.feature:30"


def test_every_body_violation_is_listed_with_its_path(v30):
    body = {
        "id": 1,
        "status": "lost",
        "items": [{"productId": "p-1"}, {"productId": "p-2", "quantity": 0}],
    }
    with pytest.raises(Failure) as caught:
        v30.check(observed("GET", "http://127.0.0.1:1/orders/o-1", 200, body))
    failure = caught.value
    assert failure.title.endswith("breaks the contract orders-3.0.yaml (4 problems)")
    lines = [line for line in failure.details.splitlines() if not line.startswith(" ")]
    assert lines == [
        "body $.id: 1 is not of type 'string'",
        "body $.items[0]: 'quantity' is a required property",
        "body $.items[1].quantity: 0 is less than the minimum of 1",
        "body $.status: 'lost' is not one of ['pending', 'completed', 'cancelled']",
    ]


def test_a_missing_required_field_and_a_missing_header(v30):
    with pytest.raises(Failure) as caught:
        v30.check(observed("POST", "http://127.0.0.1:1/orders", 201, {"id": "o-1", "items": []}))
    details = caught.value.details
    assert "body $: 'status' is a required property" in details
    assert 'header "Location": missing, the contract requires it' in details


def test_an_undocumented_content_type_or_a_body_that_is_not_json(v30):
    with pytest.raises(Failure, match='body: content type "text/plain" is not documented'):
        v30.check(
            observed(
                "GET",
                "http://127.0.0.1:1/orders/latest",
                200,
                b"hi",
                {"Content-Type": "text/plain"},
            )
        )
    with pytest.raises(Failure, match="body: not valid application/json"):
        v30.check(observed("GET", "http://127.0.0.1:1/orders/latest", 200, b"{oops"))
    with pytest.raises(Failure, match="the response has no body, the contract documents one"):
        v30.check(observed("GET", "http://127.0.0.1:1/orders/latest", 200, b""))


def test_an_undocumented_path_lists_the_documented_operations(v30):
    with pytest.raises(Failure) as caught:
        v30.check(observed("GET", "http://127.0.0.1:1/customers/c-1", 200, {}))
    failure = caught.value
    assert failure.title == "no operation for GET /customers/c-1 in orders-3.0.yaml"
    assert failure.details.splitlines() == [
        "documented operations:",
        "- POST /orders",
        "- GET /orders/{orderId}",
        "- GET /orders/latest",
    ]


def test_an_undocumented_method_names_the_methods_that_are(v30):
    with pytest.raises(Failure) as caught:
        v30.check(observed("DELETE", "http://127.0.0.1:1/orders/o-1", 204, None, {}))
    assert caught.value.title == "no operation for DELETE /orders/o-1 in orders-3.0.yaml"
    assert caught.value.details == "/orders/{orderId} documents: GET"


def test_openapi_3_1_with_a_ref_to_a_local_file(v31):
    v31.check(
        observed(
            "GET",
            "http://127.0.0.1:1/orders/o-1",
            200,
            {"id": "o-1", "status": "pending", "note": None},
        )
    )
    v31.check(observed("DELETE", "http://127.0.0.1:1/orders/o-1", 204, None, {}))
    with pytest.raises(Failure) as caught:
        v31.check(
            observed(
                "GET", "http://127.0.0.1:1/orders/o-1", 200, {"id": 1, "status": "x", "total": -1}
            )
        )
    lines = [line for line in caught.value.details.splitlines() if not line.startswith(" ")]
    assert lines == [
        "body $.id: 1 is not of type 'string'",
        "body $.status: 'x' is not one of ['pending', 'completed']",
        "body $.total: -1 is less than the minimum of 0",
    ]
    assert caught.value.title.startswith("response to GET /orders/{orderId} (status 200)")


def test_openapi_3_1_wrong_status(v31):
    with pytest.raises(Failure, match=r"status 200 is not documented \(documented: 204\)"):
        v31.check(observed("DELETE", "http://127.0.0.1:1/orders/o-1", 200, None, {}))


def test_an_invalid_document_lists_what_is_wrong():
    with pytest.raises(InterlockError) as caught:
        OpenApiContract.load(DATA / "openapi" / "invalid.yaml")
    err = caught.value
    assert err.title == "Invalid OpenAPI document invalid.yaml (2 problems)"
    assert err.details.splitlines() == [
        "$.info: 'version' is a required property",
        "$.paths['/x'].get.responses['200']: 'description' is a required property",
    ]
    assert err.where.endswith("invalid.yaml")


def test_swagger_2_and_missing_files_are_suite_mistakes(tmp_path):
    with pytest.raises(
        InterlockError, match=r"not an OpenAPI 3.0 or 3.1 document \(openapi: swagger 2.0\)"
    ):
        OpenApiContract.load(DATA / "openapi" / "swagger2.yaml")
    with pytest.raises(InterlockError, match=r"nope\.yaml not found"):
        OpenApiContract.load(DATA / "openapi" / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("openapi: 3.1.0\npaths: [\n")
    with pytest.raises(InterlockError) as caught:
        OpenApiContract.load(tmp_path / "bad.yaml")
    assert caught.value.title.startswith("Invalid YAML in OpenAPI document")
    assert caught.value.where == f"{tmp_path / 'bad.yaml'}:3"


def test_a_server_variable_prefix_is_removed(tmp_path):
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [
            {
                "url": "https://{host}/api/{version}",
                "variables": {"host": {"default": "x.example"}, "version": {"default": "v2"}},
            }
        ],
        "paths": {"/ping": {"get": {"responses": {"200": {"description": "pong"}}}}},
    }
    (tmp_path / "ping.json").write_text(json.dumps(document))
    contract = OpenApiContract.load(tmp_path / "ping.json")
    contract.check(observed("GET", "http://127.0.0.1:1/api/v2/ping", 200, None, {}))
    contract.check(observed("GET", "http://127.0.0.1:1/ping", 200, None, {}))
    with pytest.raises(Failure, match="no operation for GET /api/v3/ping"):
        contract.check(observed("GET", "http://127.0.0.1:1/api/v3/ping", 200, None, {}))


def test_a_document_found_valid_is_not_validated_again_until_a_file_changes(
        tmp_path, monkeypatch):
    """The validation cache (each worker of a parallel run, and each run after the first,
    skips the half second): keyed by the document, the files it refers to and the
    validator's version, so a change in a referenced file is seen."""
    import openapi_spec_validator.shortcuts as shortcuts

    folder = tmp_path / "openapi"
    shutil.copytree(DATA / "openapi", folder)
    cache = tmp_path / "cache"
    calls = []
    real = shortcuts.get_validator_cls
    monkeypatch.setattr(shortcuts, "get_validator_cls",
                        lambda document: calls.append(1) or real(document))
    document = folder / "orders-3.1.json"  # it refers to schemas/order.json
    first = OpenApiContract.load(document, cache)
    assert len(calls) == 1 and len(list(cache.iterdir())) == 1
    again = OpenApiContract.load(document, cache)
    assert len(calls) == 1  # not validated again
    assert again.operations == first.operations
    referenced = folder / "schemas" / "order.json"
    referenced.write_text(referenced.read_text() + "\n")
    OpenApiContract.load(document, cache)
    assert len(calls) == 2  # a referenced file changed: validated again
    (folder / "invalid.yaml").write_text((folder / "invalid.yaml").read_text())
    for _ in range(2):  # an invalid document is never remembered as valid
        with pytest.raises(InterlockError, match="Invalid OpenAPI document"):
            OpenApiContract.load(folder / "invalid.yaml", cache)


def test_a_schema_found_valid_is_not_checked_again_until_it_changes(tmp_path, monkeypatch):
    """With a cache folder, the metaschema check runs once per schema text (every run and
    every worker of a parallel run loaded the suite's event schemas and checked them)."""
    from jsonschema import Draft202012Validator

    folder, cache = tmp_path / "schemas", tmp_path / "cache"
    folder.mkdir()
    schema = folder / "order.schema.json"
    schema.write_text(json.dumps({"type": "object", "required": ["id"]}))
    checks: list[object] = []
    original = Draft202012Validator.check_schema
    monkeypatch.setattr(Draft202012Validator, "check_schema",
                        classmethod(lambda cls, s: (checks.append(s), original(s))[1]))
    for _ in range(2):
        SchemaLibrary([folder], valid_cache=cache).check({"id": "o-1"}, "order.schema.json")
    assert len(checks) == 1
    schema.write_text(json.dumps({"type": "object", "required": "id"}))  # now invalid
    with pytest.raises(InterlockError, match=r"Invalid schema order\.schema\.json"):
        SchemaLibrary([folder], valid_cache=cache).validator("order.schema.json")
    assert len(checks) == 2
