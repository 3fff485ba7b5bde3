"""The listeners' logic again, on the in-memory broker: the same tests as
``test_listeners.py`` (which run them against a real NATS server), in milliseconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interlock.events.listeners import EventListeners
from interlock.events.memory import MemoryBroker
from tests.events import test_listeners as real


@pytest.fixture
def nats_broker() -> Iterator[MemoryBroker]:
    broker = MemoryBroker("nats")
    yield broker
    broker.close()


@pytest.fixture
def events(nats_broker: MemoryBroker) -> Iterator[EventListeners]:
    listeners = EventListeners({"nats": nats_broker}, timeout=5, settle=0.2)
    yield listeners
    listeners.close()


test_expect_event_returns_as_soon_as_the_event_arrives = (
    real.test_expect_event_returns_as_soon_as_the_event_arrives)
test_an_event_that_already_arrived_matches_at_once = (
    real.test_an_event_that_already_arrived_matches_at_once)
test_timeout_lists_what_arrived_and_the_closest_mismatches = (
    real.test_timeout_lists_what_arrived_and_the_closest_mismatches)
test_nothing_arrived_says_so = real.test_nothing_arrived_says_so
test_exactly_n_waits_the_settle_window_for_extra_events = (
    real.test_exactly_n_waits_the_settle_window_for_extra_events)
test_no_event_matches = real.test_no_event_matches
test_no_event_arrives = real.test_no_event_arrives
test_events_arrive_in_order_with_fields_and_json_paths = (
    real.test_events_arrive_in_order_with_fields_and_json_paths)
test_last_event_and_remembering_a_value = real.test_last_event_and_remembering_a_value
test_a_non_json_body = real.test_a_non_json_body
test_unknown_broker_and_unlistened_channel = real.test_unknown_broker_and_unlistened_channel
test_overlapping_listens_do_not_count_an_event_twice = (
    real.test_overlapping_listens_do_not_count_an_event_twice)
test_configured_listens_start_with_the_scenario = (
    real.test_configured_listens_start_with_the_scenario)
test_events_are_attached_to_the_report_redacted = (
    real.test_events_are_attached_to_the_report_redacted)
test_close_unsubscribes = real.test_close_unsubscribes


def test_the_brokers_of_a_stack_close_with_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from interlock.suite import Suite

    config = tmp_path / "interlock.yaml"
    config.write_text("suite: {backend: memory}\nservices: {bus: {process: {command: unused}}}\n"
                      "brokers: {events: {type: memory}}\n")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        stack = suite.new_stack("default", label="isolated")
        stack.start()
        broker = suite.brokers_for(stack)["events"]
        assert suite.brokers_for(stack)["events"] is broker  # one per stack
        stack.stop()
        assert isinstance(broker, MemoryBroker) and broker.closed
    finally:
        suite.close()
test_counting_steps_on_a_correlated_channel_count_only_the_scenarios_events = (
    real.test_counting_steps_on_a_correlated_channel_count_only_the_scenarios_events)
test_a_scenario_without_a_value_is_told_it_cannot_count_beside_others = (
    real.test_a_scenario_without_a_value_is_told_it_cannot_count_beside_others)


def test_a_scenarios_own_values_are_what_it_set_not_the_stack_files_variables(
        tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The stack file's variables are every scenario's: they cannot tell one scenario's
    events from another's, so they are not among the values a correlation looks for."""
    from interlock.suite import Suite
    from interlock.world import World

    config = tmp_path / "interlock.yaml"
    config.write_text("variables: {tenant: acme, customer: c-1}\n")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        world = World(suite, None)
        assert world._own_values() == []
        world.scope.set("order_id", "o-7")
        world.scope.set("customer", "c-2")  # set again by the scenario: its own now
        assert sorted(world._own_values()) == ["c-2", "o-7"]
    finally:
        suite.close()
