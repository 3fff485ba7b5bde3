"""The stub server's answering rules, through its WSGI app (no socket): which answer a
request gets, ``once``, matching, the journal and the reset."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from interlock.stubs.server import StubApp


def program(client: Client, **answer: Any) -> int:
    if "body" in answer:
        answer["body"] = base64.b64encode(answer["body"]).decode()
    reply = client.post("/__interlock/answers", json=answer)
    assert reply.status_code == 201
    return int(reply.json["id"])


def test_once_is_used_first_then_the_next_answer_applies() -> None:
    client = Client(StubApp())
    program(client, method="POST", path="/charges", status=201)
    program(client, method="POST", path="/charges", status=503, times=1)
    statuses = [client.post("/charges").status_code for _ in range(3)]
    assert statuses == [503, 201, 201]


def test_a_later_answer_overrides_an_earlier_one_for_the_same_request() -> None:
    client = Client(StubApp())
    program(client, method="GET", path="/charges/{id}", status=200)
    program(client, method="GET", path="/charges/{id}", status=404)
    assert client.get("/charges/ch-1").status_code == 404


def test_path_parameters_and_star_match_one_segment_only() -> None:
    client = Client(StubApp())
    program(client, method="GET", path="/charges/{id}", status=200)
    program(client, method="GET", path="/refunds/*/lines", status=204)
    assert client.get("/charges/ch-1").status_code == 200
    assert client.get("/charges/ch-1/more").status_code == 404
    assert client.get("/refunds/r-9/lines").status_code == 204
    assert client.post("/charges/ch-1").status_code == 404  # method matters


def test_query_and_json_body_narrow_the_match() -> None:
    client = Client(StubApp())
    program(client, method="POST", path="/charges", status=402,
            json={"amount": 999, "card": {"last4": "0002"}})
    program(client, method="GET", path="/charges", status=200, query={"status": "open"})
    declined = {"amount": 999, "currency": "EUR", "card": {"last4": "0002", "exp": "12/30"}}
    assert client.post("/charges", json=declined).status_code == 402
    assert client.post("/charges", json={"amount": 5}).status_code == 404
    assert client.post("/charges", data=b"not json").status_code == 404
    assert client.get("/charges?status=open&page=2").status_code == 200
    assert client.get("/charges?status=closed").status_code == 404


def test_the_answer_carries_status_headers_and_body() -> None:
    client = Client(StubApp())
    program(client, method="GET", path="/receipt", status=200, body=b"%PDF-1.7",
            headers={"Content-Type": "application/pdf", "X-Trace": "t-1"})
    reply = client.get("/receipt")
    assert (reply.status_code, reply.data, reply.headers["X-Trace"],
            reply.headers["Content-Type"]) == (200, b"%PDF-1.7", "t-1", "application/pdf")


def test_an_unmatched_request_gets_a_404_listing_the_answers_that_were_set() -> None:
    client = Client(StubApp())
    program(client, method="POST", path="/charges", status=201, times=1)
    reply = client.delete("/charges")
    assert reply.status_code == 404
    assert reply.json["answers"] == ["POST /charges -> 201 (1 of 1 left)"]
    assert "DELETE /charges" in reply.json["error"]


def test_the_journal_keeps_each_request_and_its_answer_until_the_reset() -> None:
    client = Client(StubApp())
    kept = program(client, method="GET", path="/health-of-provider", status=200, keep=True)
    answer = program(client, method="POST", path="/charges", status=201)
    client.post("/charges?x=1", json={"amount": 120}, headers={"Authorization": "Bearer t"})
    journal = client.get("/__interlock/requests").json
    assert [(e["method"], e["path"], e["query"], e["status"], e["answer"]) for e in journal] == [
        ("POST", "/charges", "x=1", 201, answer)]
    assert base64.b64decode(journal[0]["body"]) == b'{"amount": 120}'
    assert ["Authorization", "Bearer t"] in journal[0]["headers"]
    assert client.get("/__interlock/requests?since=1").json == []
    client.post("/__interlock/reset")
    assert client.get("/__interlock/requests").json == []
    assert client.post("/charges").status_code == 404  # the scenario's answer is gone
    assert client.get("/health-of-provider").status_code == 200  # a kept one stays
    assert kept != answer


def test_a_malformed_answer_is_refused_with_a_reason() -> None:
    client = Client(StubApp())
    reply = client.post("/__interlock/answers", data=b"[1, 2]",
                        headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "JSON object" in reply.json["error"]


def test_a_query_written_in_the_path_narrows_the_answer_and_the_check_decoded() -> None:
    """`answers GET "/search?q=a b"` as a step writes it: the query is matched, not taken for
    part of the path; `q=a%20b` and `q=a b` are the same parameter."""
    import requests

    from interlock.stubs import Stub, serve_in_thread

    server = serve_in_thread()
    stub = Stub("search", server.url)
    try:
        stub.answer("GET", "/search?q=a b", status=200, json={"hits": 1})
        assert requests.get(server.url + "/search?q=a%20b&page=2", timeout=5).status_code == 200
        assert requests.get(server.url + "/search?q=other", timeout=5).status_code == 404
        assert len(stub.requests_to("GET", "/search?q=a%20b")) == 1
    finally:
        server.close()
        stub.close()


def test_a_shared_stub_is_not_cleared_between_scenarios_each_reads_from_its_start() -> None:
    """Two runs share a stub (interlock run -j): a scenario's end does not reset it under
    the other run; the next scenario reads only what arrives from its start on."""
    import requests

    from interlock.stubs.stub import Stub, serve_in_thread

    served = serve_in_thread()
    mine, theirs = Stub("payments", served.url), Stub("payments", served.url)
    try:
        mine.answer("POST", "/charges", status=201, keep=True)  # a default, as examples are
        requests.post(f"{served.url}/charges", json={"reference": "first"}, timeout=5)
        assert [r.json() for r in mine.new_requests()] == [{"reference": "first"}]
        mine.next_scenario()  # what a scenario's end does on a shared stack, instead of reset
        requests.post(f"{served.url}/charges", json={"reference": "second"}, timeout=5)
        found = mine.received("POST", "/charges", count=1)
        assert [r.json() for r in found] == [{"reference": "second"}]
        assert len(theirs.requests_to("POST", "/charges")) == 2  # the other run lost nothing
        # A scenario that set an answer of its own on a shared stub has that answer removed
        # after it, and only that: the journal the other run reads stays whole.
        requests.post(f"{served.url}/charges", json={"reference": "third"}, timeout=5)
        mine.answer("POST", "/refunds", status=500)
        mine.next_scenario()
        assert requests.post(f"{served.url}/refunds", timeout=5).status_code == 404
        assert requests.post(f"{served.url}/charges", timeout=5).status_code == 201  # kept
        assert len(theirs.requests_to("POST", "/charges")) == 4  # nothing cleared
        # A run that starts a scenario on the shared stub reads on from now: what the other
        # run caused before is not its scenario's.
        late = Stub("payments", served.url)
        late.skip_to_now()
        assert late.new_requests() == [] and late.requests_to("POST", "/charges") == []
        requests.post(f"{served.url}/charges", json={"reference": "fourth"}, timeout=5)
        assert [r.json() for r in late.new_requests()] == [{"reference": "fourth"}]
        late.close()
        mine.reset()  # a stack of its own resets as before: the journal starts again
        assert mine.requests_to("POST", "/charges") == []
    finally:
        mine.close()
        theirs.close()
        served.close()


def test_a_stub_whose_journal_was_emptied_elsewhere_reads_it_from_its_start() -> None:
    """Another run reset the shared stub, or a fault restarted its server (worker 1 of
    interlock run -j heals the stack after a feature that stopped it): this run's place in
    the journal is past its end, so what arrives after is read from the start, not lost."""
    import requests

    from interlock.stubs.stub import Stub, serve_in_thread

    served = serve_in_thread()
    mine, theirs = Stub("payments", served.url), Stub("payments", served.url)
    try:
        mine.answer("POST", "/charges", status=201, keep=True)
        for n in range(3):
            requests.post(f"{served.url}/charges", json={"n": n}, timeout=5)
        mine.skip_to_now()  # a scenario starts: three requests are somebody else's
        assert mine.seen == 3
        theirs.reset()  # the journal is emptied under it
        requests.post(f"{served.url}/charges", json={"n": "after"}, timeout=5)
        assert [r.json() for r in mine.new_requests()] == [{"n": "after"}]
        assert [r.json() for r in mine.received("POST", "/charges", count=1)] == [
            {"n": "after"}]
        mine.skip_to_now()  # the next scenario reads on from here
        requests.post(f"{served.url}/charges", json={"n": "next"}, timeout=5)
        assert [r.json() for r in mine.received("POST", "/charges", count=1)] == [
            {"n": "next"}]
    finally:
        mine.close()
        theirs.close()
        served.close()


TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"


def traceparent(trace: str, span: str = "00f067aa0ba902b7") -> dict[str, str]:
    return {"traceparent": f"00-{trace}-{span}-01"}


def test_an_answer_for_one_scenario_is_given_to_that_scenarios_requests_only() -> None:
    """Scenarios that share a stub (interlock run -j) each get their own answer, by the trace
    id the system passed on; the span id changes at each hop and does not matter."""
    client = Client(StubApp())
    program(client, method="POST", path="/charges", status=201, keep=True)  # the default
    program(client, method="POST", path="/charges", status=402,
            scenario={"header": "traceparent", "id": TRACE_A})
    program(client, method="POST", path="/charges", status=503, times=1,
            scenario={"header": "traceparent", "id": TRACE_B})
    assert client.post("/charges", headers=traceparent(TRACE_A, "1111111111111111")
                       ).status_code == 402
    assert client.post("/charges", headers=traceparent(TRACE_B)).status_code == 503
    assert client.post("/charges", headers=traceparent(TRACE_B)).status_code == 201  # used up
    assert client.post("/charges").status_code == 201  # no scenario's: the default
    listed = client.get("/__interlock/answers").json
    assert f"POST /charges -> 402 (for traceparent {TRACE_A} only)" in listed


def test_a_header_of_the_suites_own_tells_scenarios_apart_by_its_whole_value() -> None:
    client = Client(StubApp())
    program(client, method="GET", path="/rates", status=200, keep=True)
    program(client, method="GET", path="/rates", status=500,
            scenario={"header": "X-Test-Scenario", "id": "s-1"})
    assert client.get("/rates", headers={"X-Test-Scenario": "s-1"}).status_code == 500
    assert client.get("/rates", headers={"X-Test-Scenario": "s-2"}).status_code == 200


def test_a_changes_file_it_cannot_write_is_said_and_the_server_runs_without_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a container, the changes file is the host's, mounted: it may not be writable. The
    server says so and answers as before (the test then asks for the journal)."""
    missing = tmp_path / "no-such-folder" / "journal-changes"
    client = Client(StubApp(str(missing)))
    program(client, method="GET", path="/charges", status=200)
    assert client.get("/charges").status_code == 200
    assert len(client.get("/__interlock/requests").get_json()) == 1
    assert f"cannot keep the changes file {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_a_changes_file_says_every_change_of_the_journal(tmp_path: Path) -> None:
    changes = tmp_path / "journal-changes"
    client = Client(StubApp(str(changes)))
    first = changes.read_bytes()
    assert len(first) == 8
    client.get("/nothing-set")  # received (a 404): the journal changed
    second = changes.read_bytes()
    assert second != first
    client.post("/__interlock/reset")
    assert changes.read_bytes() != second
