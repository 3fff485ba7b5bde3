"""A stub as the process backend runs it: a real server on a free loopback port, programmed
and checked by ``Stub`` over HTTP, called by a real client; nothing left after the stop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from interlock._core.errors import Failure, InterlockError
from interlock._core.secrets import Secrets
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack
from interlock.stubs import Stub


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[Stub]:
    spec = ServiceSpec.from_dict("payments", {"kind": "stub"}, where="test")
    stack = Stack("stubs", {"payments": spec}, run_dir=tmp_path / "run",
                  progress=lambda line: None)
    secrets = Secrets()
    secrets.add("card-secret-4242")
    try:
        stack.start()
        group = stack.running["payments"].pid  # type: ignore[attr-defined]
        client = Stub("payments", stack.address("payments").url, secrets)
        yield client
        client.close()
    finally:
        stack.stop()
    assert [p for p in psutil.process_iter() if _in_group(p, group)] == []


def test_the_stub_runs_on_a_free_loopback_port_and_answers_what_it_was_told(stub: Stub) -> None:
    assert stub.url.startswith("http://127.0.0.1:")
    stub.answer("POST", "/charges", status=201, json={"id": "ch-1", "status": "succeeded"})
    reply = requests.post(stub.url + "/charges", json={"amount": 120, "currency": "EUR"},
                          timeout=5)
    assert (reply.status_code, reply.json(), reply.headers["Content-Type"]) == (
        201, {"id": "ch-1", "status": "succeeded"}, "application/json")
    [got] = stub.received("POST", "/charges", json_contains={"amount": 120}, count=1)
    assert got.json() == {"amount": 120, "currency": "EUR"}


def test_a_delayed_answer_comes_after_the_delay(stub: Stub) -> None:
    stub.answer("POST", "/refunds", status=202, delay=0.4)
    started = time.monotonic()
    reply = requests.post(stub.url + "/refunds", timeout=5)
    assert reply.status_code == 202
    assert time.monotonic() - started >= 0.4
    with pytest.raises(requests.Timeout):  # what a system with a short timeout sees
        stub.answer("POST", "/slow", delay=2)
        requests.post(stub.url + "/slow", timeout=0.3)


def test_a_failed_check_lists_what_the_stub_did_receive_with_secrets_hidden(stub: Stub) -> None:
    requests.post(stub.url + "/charges", json={"amount": 5, "card": "card-secret-4242"}, timeout=5)
    with pytest.raises(Failure) as raised:
        stub.received("POST", "/charges", json_contains={"amount": 120})
    text = str(raised.value)
    assert "$.amount" in text and "expected 120, got 5" in text
    assert "POST /charges" in text and "-> 404" in text
    assert "card-secret-4242" not in text
    with pytest.raises(Failure, match="received 1 request to POST /charges, not 2"):
        stub.received("POST", "/charges", count=2)
    with pytest.raises(Failure, match='The "payments" stub received no POST /refunds'):
        stub.received("POST", "/refunds")
    stub.received("POST", "/refunds", count=0)


def test_reset_forgets_the_answers_and_the_journal(stub: Stub) -> None:
    stub.answer("GET", "/charges/{id}", status=200, json={"id": "x"})
    requests.get(stub.url + "/charges/ch-9", timeout=5)
    assert [r.path for r in stub.new_requests()] == ["/charges/ch-9"]
    assert stub.new_requests() == []
    stub.reset()
    assert stub.journal() == []
    assert requests.get(stub.url + "/charges/ch-9", timeout=5).status_code == 404


def test_a_stub_that_does_not_answer_is_a_clear_error() -> None:
    with pytest.raises(InterlockError, match='"gone" stub does not answer'):
        Stub("gone", "http://127.0.0.1:9").reset("x.feature:3")


def _in_group(process: psutil.Process, group: int) -> bool:
    try:
        import os

        return os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE
    except (ProcessLookupError, psutil.Error):
        return False


def test_an_answer_may_depend_on_the_query_and_the_json_body(stub: Stub) -> None:
    stub.answer("POST", "/charges", status=201, json={"status": "succeeded"})
    stub.answer("POST", "/charges", status=402, json_contains={"card": {"last4": "0002"}})
    stub.answer("GET", "/charges", status=200, json=[], query={"status": "open"})
    declined = {"amount": 5, "card": {"last4": "0002", "exp": "12/30"}}
    assert requests.post(stub.url + "/charges", json=declined, timeout=5).status_code == 402
    assert requests.post(stub.url + "/charges", json={"amount": 5}, timeout=5).status_code == 201
    assert requests.get(stub.url + "/charges?status=open", timeout=5).status_code == 200
    assert requests.get(stub.url + "/charges?status=paid", timeout=5).status_code == 404
    assert len(stub.requests_to("GET", "/charges?status=open")) == 1


def test_a_scoped_stub_sets_checks_and_reports_one_scenarios_requests(stub: Stub) -> None:
    """With a scenario_header, two scenarios on one stub (two workers of interlock run -j)
    each see their own answer and their own requests; a request carrying no scenario's id is
    counted by none, and a failure says the system may not pass the header on."""
    one = Stub("payments", stub.url, scenario_header="traceparent")
    two = Stub("payments", stub.url, scenario_header="traceparent")
    one.scenario, two.scenario = "a" * 32, "b" * 32
    one.answer("POST", "/charges", status=402)
    two.answer("POST", "/charges", status=201)
    sent = [requests.post(f"{stub.url}/charges", json={"n": n},
                          headers={"traceparent": f"00-{trace}-{'1' * 16}-01"})
            for n, trace in ((1, "a" * 32), (2, "b" * 32), (3, "b" * 32))]
    assert [r.status_code for r in sent] == [402, 201, 201]
    assert len(one.received("POST", "/charges", count=1)) == 1
    assert [r.json() for r in two.received("POST", "/charges", count=2)] == [{"n": 2}, {"n": 3}]
    requests.post(f"{stub.url}/charges", json={"n": 4})  # carries no scenario's id
    assert [r.json() for r in two.new_requests()] == [{"n": 2}, {"n": 3}, {"n": 4}]
    assert len(one.received("POST", "/charges")) == 1  # its own is there
    with pytest.raises(Failure) as failed:  # a count cannot be sure: the 4th may be its own
        one.received("POST", "/charges", count=1)
    assert failed.value.title.endswith("without a traceparent header: whose they are cannot "
                                       "be told")
    assert "options.scenario_header" in failed.value.hint
    assert "1 request without a traceparent header" in failed.value.details
    three = Stub("payments", stub.url, scenario_header="traceparent")
    three.scenario = "c" * 32  # a scenario whose trace the system did not go on with
    with pytest.raises(Failure) as failed:
        three.received("POST", "/charges")
    assert f"carry {'c' * 32} in their traceparent header; none did, and 3 carried other " \
        "scenarios' ids" in failed.value.details
    for client in (one, two, three):
        client.close()


def test_a_scenario_sends_its_id_in_the_header_its_stubs_tell_scenarios_apart_by(
        tmp_path: Path) -> None:
    """Each scenario's requests carry a traceparent of its own trace id (a new span each
    session), the id its stubs' answers and checks are limited to."""
    from interlock.suite import Suite
    from interlock.world import World

    config = tmp_path / "interlock.yaml"
    config.write_text("services:\n  payments: {kind: stub, options: {scenario_header: "
                      "traceparent}}\n  plain: {kind: stub}\n")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        one, two = World(suite, None), World(suite, None)
        header = one.http.headers["traceparent"]
        assert header.startswith(f"00-{one.scenario_id}-") and header.endswith("-01")
        assert len(one.scenario_id) == 32 and one.scenario_id != two.scenario_id
        assert two.http.headers["traceparent"].split("-")[1] == two.scenario_id
        assert suite.scenario_headers == {"payments": "traceparent"}
    finally:
        suite.close()


class _Counting(requests.Session):
    """A session that counts the journal requests it makes."""

    journal_reads = 0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if "/__interlock/requests" in url:
            self.journal_reads += 1
        return super().request(method, url, *args, **kwargs)


def test_the_journal_is_asked_for_only_after_the_stub_received_something(
        tmp_path: Path) -> None:
    """A local stub server says in a file when its journal changes: a step during which it
    received nothing costs no request; one during which it did reads it (and a restarted
    server, which starts from another number, is read again)."""
    spec = ServiceSpec.from_dict("payments", {"kind": "stub"}, where="test")
    stack = Stack("stubs", {"payments": spec}, run_dir=tmp_path / "run",
                  progress=lambda line: None)
    try:
        stack.start()
        address = stack.address("payments")
        http = _Counting()
        stub = Stub("payments", address.url, http=http,
                    changes_file=address.extra["changes_file"])
        stub.answer("POST", "/charges", status=201)
        assert stub.new_requests() == [] and http.journal_reads == 1  # first: read once
        assert stub.new_requests() == [] and stub.new_requests() == []
        assert http.journal_reads == 1  # nothing received: nothing asked
        requests.post(f"{address.url}/charges", json={"n": 1})
        assert [r.json() for r in stub.new_requests()] == [{"n": 1}]
        assert http.journal_reads == 2
        assert stub.new_requests() == [] and http.journal_reads == 2
        stack.restart("payments")
        stub.reset()  # what a scenario's end does
        requests.post(f"{address.url}/charges", json={"n": 2})
        assert [r.status for r in stub.new_requests()] == [404]  # the new server's journal
        http.close()
    finally:
        stack.stop()
