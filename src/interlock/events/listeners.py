"""The events a scenario listens for, and the expectations the event steps check.

One ``EventListeners`` per scenario: it subscribes on the suite's connected brokers, collects
every event in one ``EventBuffer``, and its ``expect_*`` methods wait on that buffer (woken by
each arrival; no polling). ``close()`` unsubscribes everything after the scenario.

Example:
    >>> from interlock.events.webhook import WebhookBroker, WebhookConfig
    >>> import requests
    >>> hooks = WebhookBroker("hooks", WebhookConfig())
    >>> events = EventListeners({"hooks": hooks}, timeout=2)
    >>> events.listen("orders/created")
    >>> _ = requests.post(hooks.url + "/orders/created", json={"id": 7, "state": "new"})
    >>> events.expect_event("orders/created", {"id": 7}).json()["state"]
    'new'
    >>> events.close(); hooks.close()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from interlock._core.errors import Failure, InterlockError, did_you_mean
from interlock._core.match import MISSING, compare, format_mismatches, select, select_one
from interlock._core.report import JSON, TEXT, Reporter, pretty_json
from interlock._core.secrets import Secrets
from interlock._core.traffic import BROKER, TEST, note
from interlock.events.base import Broker, Event, EventBuffer, Subscription
from interlock.events.config import Correlation, EventsConfig

_SHOWN = 20  # events listed in a failure; more are counted


class EventListeners:
    """Listening, publishing and expecting events for one scenario.

    ``brokers`` are connected ``Broker`` objects by name; ``timeout`` is the default wait of
    the expectation steps and ``settle`` the extra window ``exactly N`` waits for surplus
    events, both in seconds.

    Example::

        events = EventListeners({"nats": nats_broker}, timeout=5)
        events.listen("orders.>")
        events.publish("payments.received", {"orderId": "o-1"})
        events.expect_event("orders.created", {"orderId": "o-1"})
    """

    def __init__(
        self,
        brokers: Mapping[str, Broker],
        *,
        timeout: float = 5.0,
        settle: float = 0.3,
        reporter: Reporter | None = None,
        secrets: Secrets | None = None,
        correlate: Sequence[Correlation] = (),
        known: Callable[[], Iterable[Any]] | None = None,
        shared: bool = False,
    ) -> None:
        self.brokers = dict(brokers)
        # Whose events these are: the id field of each correlated channel, the scenario's
        # values (``{order_id}``…), and whether other runs share the stack (then counting
        # events nobody can tell apart is refused rather than left to chance).
        self.correlate = tuple(correlate)
        self.known = known or (lambda: ())
        self.shared = shared
        self.timeout = timeout
        self.settle = settle
        self.reporter = reporter
        self.secrets = secrets or Secrets()
        self.buffer = EventBuffer()
        self.last_event: Event | None = None
        self.headers: dict[str, str] = {}  # carried by every publish of the scenario
        self._listening: dict[tuple[str, str], Subscription] = {}
        self._attached = 0

    @classmethod
    def start(
        cls,
        brokers: Mapping[str, Broker],
        config: EventsConfig,
        reporter: Reporter | None = None,
        secrets: Secrets | None = None,
        known: Callable[[], Iterable[Any]] | None = None,
        shared: bool = False,
    ) -> EventListeners:
        """Listeners for a new scenario, already listening to ``events.listen``; ``known``
        gives the scenario's values, for ``correlate``; ``shared``: other runs use the stack.

        If one of those listens fails, the ones already made are closed before raising.
        """
        listeners = cls(brokers, timeout=config.timeout, settle=config.settle,
                        reporter=reporter, secrets=secrets, correlate=config.correlate,
                        known=known, shared=shared)
        try:
            for entry in config.listen:
                listeners.listen(entry.channel, entry.broker)
        except BaseException:
            listeners.close()
            raise
        return listeners

    # -- listening and publishing -------------------------------------------------------

    def listen(self, channel: str, broker: str | None = None) -> None:
        """Start receiving events on ``channel`` (broker wildcards allowed); idempotent."""
        name = self._broker_name(broker, f'listen for events on "{channel}"')
        if (name, channel) in self._listening:
            return
        self._listening[(name, channel)] = self.brokers[name].subscribe(channel, self._received)

    def _received(self, event: Event) -> None:
        """An event delivered to the test's listener (on the broker's thread)."""
        self.buffer.push(event)
        note(self.reporter, event.broker or "broker", TEST, f"deliver {event.channel}",
             source_kind=BROKER, target_kind=TEST,
             detail=self.secrets.shorten(event.body.decode("utf-8", "replace"), 300))

    def attach_received(self) -> None:
        """Attach what arrived since the last call, under the step running now: the hooks
        call it at the end of every step, so an event is shown under the step during which
        it arrived, not the one that later read it."""
        self._attach_received()

    def publish(
        self,
        channel: str,
        document: Any,
        times: int = 1,
        broker: str | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
    ) -> None:
        """Publish ``document`` ``times`` times (bytes and text as they are, else as JSON),
        with the carried headers (``carry_headers``) and ``headers``, and ``key`` (Kafka)."""
        name = self._broker_name(broker, f'publish to "{channel}"')
        if key is not None:
            self._require_keys(name, f'publish to "{channel}" with key "{key}"')
        carried = {**self.headers, **(headers or {})} or None
        if isinstance(document, bytes):
            body = document
        elif isinstance(document, str):
            body = document.encode()
        else:
            body = json.dumps(document).encode()
        # Noted before it is sent: a broker may deliver it back before publish() returns.
        note(self.reporter, TEST, name, f"publish {channel}" + (f" ×{times}" if times > 1 else ""),
             source_kind=TEST, target_kind=BROKER,
             detail=self.secrets.shorten(body.decode("utf-8", "replace"), 300))
        for _ in range(times):
            self.brokers[name].publish(channel, body, carried, key)
        self._attach(f"event {channel} (published)", body, key=key, headers=carried or {})

    def carry_headers(self, headers: Mapping[str, str]) -> None:
        """Headers every later ``publish`` of this scenario carries (added to earlier ones).

        Example::

            events.carry_headers({"ce-type": "Payment"})
        """
        self.headers.update(headers)

    # -- expectations -------------------------------------------------------------------

    def expect_event(
        self, channel: str, expected: Any, timeout: float | None = None, broker: str | None = None,
        key: str | None = None,
    ) -> Event:
        """The first event on ``channel`` (with ``key``, when given) that contains
        ``expected``; returns the moment it arrives (or at once if it already did); a
        ``Failure`` listing what came otherwise."""
        on_channel = self._on_channel(channel, broker)
        if key is not None:
            for name in on_channel.sources:
                self._require_keys(name, f'expect an event on "{channel}" with key "{key}"')
            keyed = on_channel
            on_channel = _OnChannel(channel, on_channel.sources, self.brokers, key)
        _check_expected(expected)
        wait = self.timeout if timeout is None else timeout
        event = self.buffer.wait_for(lambda e: on_channel(e) and _contains(expected, e), wait)
        self._attach_received()
        if event is None:
            with_key = f' with key "{key}"' if key is not None else ""
            raise self._failure(
                f'no event on "{channel}"{with_key} matched within {_seconds(wait)}', channel,
                on_channel, expected, keyed if key is not None else None,
            )
        self.last_event = event
        return event

    def expect_exactly(
        self,
        n: int,
        channel: str,
        expected: Any,
        timeout: float | None = None,
        broker: str | None = None,
    ) -> list[Event]:
        """Exactly ``n`` events on ``channel`` contain ``expected``: waits for ``n``, then the
        settle window for any extra one."""
        on_channel = self._on_channel(channel, broker)
        _check_expected(expected)
        own = self._scenarios_own(channel, on_channel, "count events")
        wait = self.timeout if timeout is None else timeout
        found = self.buffer.wait_count(
            lambda e: own(e) and _contains(expected, e), n, wait, self.settle
        )
        self._attach_received()
        if len(found) != n:
            count = f"{len(found)} {_events(len(found))}"
            title = f'{count} on "{channel}" matched, expected exactly {n}'
            raise self._failure(title, channel, on_channel, expected if len(found) < n else None)
        self.last_event = found[-1] if found else None
        return found

    def expect_none(
        self, channel: str, expected: Any, window: float | None = None, broker: str | None = None
    ) -> None:
        """No event on ``channel`` contains ``expected`` (during ``window`` seconds, by default
        the event timeout; an event that already arrived fails at once)."""
        on_channel = self._on_channel(channel, broker)
        _check_expected(expected)
        own = self._scenarios_own(channel, on_channel, "refuse events")
        wait = self.timeout if window is None else window
        event = self.buffer.wait_for(lambda e: own(e) and _contains(expected, e), wait)
        self._attach_received()
        if event is not None:
            raise Failure(
                f'an event on "{channel}" matched, expected none',
                self.secrets.redact(f"matching event: {self._show(event)}"),
            )

    def expect_no_event(self, channel: str, window: float, broker: str | None = None) -> None:
        """Nothing at all arrives on ``channel`` (since listening, and during ``window``)."""
        on_channel = self._on_channel(channel, broker)
        event = self.buffer.wait_for(self._scenarios_own(channel, on_channel, "refuse events"),
                                     window)
        self._attach_received()
        if event is not None:
            raise Failure(
                f'an event arrived on "{channel}", expected none within {_seconds(window)}',
                self.secrets.redact(f"event: {self._show(event)}"),
            )

    def expect_order(
        self,
        channel: str,
        rows: Sequence[Mapping[str, Any]],
        timeout: float | None = None,
        broker: str | None = None,
    ) -> list[Event]:
        """Events on ``channel`` arrive in the order of ``rows`` (other events may come in
        between). Each column is a top-level field, or a JSONPath when it starts with ``$``.

        Example::

            events.expect_order("orders.>", [{"type": "OrderCreated"},
                                             {"type": "OrderAssigned"}])
        """
        if not rows:
            raise InterlockError("the order table has no rows", hint="List one event per row.")
        on_channel = self._on_channel(channel, broker)
        for row in rows:
            _check_expected(dict(row))
        for column in dict.fromkeys(column for row in rows for column in row):
            if column.startswith("$"):
                select(None, column)  # an invalid JSONPath column fails now, not after the wait
        own = self._scenarios_own(channel, on_channel, "order events")

        def in_order(events: list[Event]) -> list[Event] | None:
            picked: list[Event] = []
            for event in events:
                if own(event) and _row_matches(rows[len(picked)], event):
                    picked.append(event)
                    if len(picked) == len(rows):
                        return picked
            return None

        wait = self.timeout if timeout is None else timeout
        found = self.buffer.wait_until(in_order, wait)
        self._attach_received()
        if found is None:
            raise self._order_failure(channel, rows, on_channel, wait)
        self.last_event = found[-1]
        return found

    # -- the last event -----------------------------------------------------------------

    def expect_header(self, name: str, value: str) -> None:
        """The event the last expectation found has header ``name`` (any case) equal to
        ``value`` (a marker such as ``#uuid`` or ``#regex …`` allowed)."""
        event = self._last("the event has the header")
        actual = event.header(name)
        _check_expected(value)
        if actual is not None and not compare(value, actual, "is"):
            return
        present = ", ".join(f"{k}: {v}" for k, v in event.headers.items()) or "none"
        title = (f'the event on "{event.channel}" has no header "{name}"' if actual is None else
                 f'the event\'s header "{name}" is "{actual}", expected "{value}"')
        raise Failure(self.secrets.redact(title),
                      self.secrets.redact(f"headers of the event: {present}\nevent: "
                                          f"{self._show(event)}"),
                      hint="" if actual is not None or event.headers else
                      "Does the publisher set headers? Only Kafka, NATS, RabbitMQ and MQTT 5 "
                      "carry them.")

    def _last(self, step: str) -> Event:
        if self.last_event is None:
            raise InterlockError(
                f"no event to look at yet ({step})",
                hint='A step such as `Then an event on "orders.created" matches:` must find '
                "one first.",
            )
        return self.last_event

    def _require_keys(self, broker: str, action: str) -> None:
        if not self.brokers[broker].keys:
            raise InterlockError(
                f'cannot {action}: broker "{broker}" has no message keys',
                hint="Keys exist on Kafka. Drop `with key` and carry the value in the body or "
                "in a header (`Given the events I publish carry the headers:`) instead.",
            )

    def last_json(self) -> Any:
        """The JSON of the event the last expectation found (for schemas and remembering)."""
        return self._last("the event JSON").json(self.secrets)

    def last_value(self, path: str) -> Any:
        """The value at JSONPath ``path`` in the last event found."""
        event = self.last_event
        document = self.last_json()
        assert event is not None
        return select_one(document, path, what=f'the event on "{event.channel}"',
                          secrets=self.secrets)

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Unsubscribe everything (every subscription is tried, even when one fails)."""
        listening, self._listening = self._listening, {}
        problems: list[str] = []
        for (broker, channel), subscription in listening.items():
            try:
                subscription.close()
            except Exception as err:
                problems.append(f'{broker} "{channel}": {type(err).__name__}: {err}')
        self._attach_received()
        if problems:
            raise InterlockError("some event subscriptions did not close cleanly",
                                 details=self.secrets.redact("\n".join(problems)))

    # -- internals ----------------------------------------------------------------------

    def _broker_name(self, broker: str | None, action: str) -> str:
        if broker is not None:
            if broker not in self.brokers:
                raise InterlockError(f'unknown broker "{broker}"',
                                     hint=did_you_mean(broker, list(self.brokers)))
            return broker
        if len(self.brokers) == 1:
            return next(iter(self.brokers))
        if not self.brokers:
            raise InterlockError(f"cannot {action}: no broker is configured",
                                 hint="Add a `brokers:` block to the stack file.")
        raise InterlockError(
            f"cannot {action}: several brokers are configured, say which one",
            hint=f'Add from "<broker>": {", ".join(sorted(self.brokers))}',
        )

    def _on_channel(self, channel: str, broker: str | None) -> _OnChannel:
        """Whether an event belongs to ``channel``, through one listen per broker (so
        overlapping listens do not count an event twice)."""
        names = [self._broker_name(broker, f'expect events on "{channel}"')] if broker else list(
            self.brokers
        )
        sources: dict[str, str] = {}
        for name in names:
            patterns = [p for (b, p) in self._listening if b == name]
            covering = [p for p in patterns if p == channel] or [
                p for p in patterns if self.brokers[name].matches(p, channel)
            ]
            if covering:
                sources[name] = covering[0]
        if not sources:
            listened = ", ".join(f'"{p}" ({b})' for b, p in self._listening) or "nothing"
            raise InterlockError(
                f'not listening for events on "{channel}"',
                details=f"listening to: {listened}",
                hint=f'Add `Given I listen for events on "{channel}"` before the step that '
                "triggers the event, or list the channel under `events: listen:` in the "
                "stack file.",
            )

        return _OnChannel(channel, sources, self.brokers)

    def _scenarios_own(self, channel: str, on_channel: _OnChannel,
                       action: str) -> Callable[[Event], bool]:
        """Which events of ``on_channel`` a counting step counts. On a channel the stack
        file correlates (``events: correlate:``), only those whose id field holds one of the
        scenario's values; an event on a channel not correlated always counts. A scenario
        with no value yet cannot tell its events apart: alone on its stack it counts them
        all, beside other runs (``interlock run -j``) it is told so."""
        if not self.correlate:
            return on_channel
        values = {text for v in self.known() if (text := _text(v)) is not None}
        if not values:
            covered = [c for c in self.correlate for name in on_channel.sources
                       if self.brokers[name].matches(c.channel, channel)]
            if covered and self.shared:
                raise InterlockError(
                    f'cannot {action} on "{channel}" that are this scenario\'s own: it has no '
                    f"value yet to find in {covered[0].path}, and other runs share the stack",
                    hint="Remember the id the scenario creates first (e.g. Then I remember "
                    'the response JSON at "$.id" as "order_id"), or tag the feature @serial.',
                )
            return on_channel

        def own(event: Event) -> bool:
            if not on_channel(event):
                return False
            broker = self.brokers.get(event.broker)
            correlation = next((c for c in self.correlate if broker is not None
                                and broker.matches(c.channel, event.channel)), None)
            if correlation is None:
                return True
            ok, document = event.try_json()
            return ok and any(_text(v) in values for v in select(document, correlation.path))

        return own

    def _failure(
        self, title: str, channel: str, on_channel: Callable[[Event], bool], expected: Any,
        any_key: Callable[[Event], bool] | None = None,
    ) -> Failure:
        arrived = [e for e in self.buffer.snapshot() if on_channel(e)]
        lines = [f"expected (contains): {json.dumps(self.secrets.redact_json(expected))}"
                 if expected is not None else ""]
        other_keys = [e for e in self.buffer.snapshot() if any_key(e)] if any_key else []
        if not arrived and other_keys:
            lines.append(f"no event with that key; {len(other_keys)} with other keys:")
            lines.extend(f"  #{i} {self._show(e)}" for i, e in enumerate(other_keys[:_SHOWN], 1))
        elif not arrived:
            lines.append(f'no event arrived on "{channel}" since listening')
            sources = on_channel.sources if isinstance(on_channel, _OnChannel) else {}
            elsewhere: dict[str, int] = {}
            for event in self.buffer.snapshot():
                if sources.get(event.broker) == event.listen:
                    elsewhere[event.channel] = elsewhere.get(event.channel, 0) + 1
            if elsewhere:
                lines.append("other channels of the same listen got: " + ", ".join(
                    f'"{name}" ({count})' for name, count in sorted(elsewhere.items())))
        else:
            lines.append(f'{len(arrived)} {_events(len(arrived))} arrived on "{channel}":')
            lines.extend(f"  #{i} {self._show(e)}" for i, e in enumerate(arrived[:_SHOWN], 1))
            if len(arrived) > _SHOWN:
                lines.append(f"  … and {len(arrived) - _SHOWN} more")
        closest = _closest(expected, arrived) if expected is not None else None
        if closest is not None:
            index, mismatches, document = closest
            lines.append(f"closest, #{index}, differs:")
            lines.extend("  " + line for line in
                         format_mismatches(mismatches, document, secrets=self.secrets).splitlines())
        hint = ("Check that the service publishes to this channel (and that the name and "
                "broker are right)" if not arrived else "")
        return Failure(title, self.secrets.redact("\n".join(line for line in lines if line)),
                       hint=hint)

    def _order_failure(
        self, channel: str, rows: Sequence[Mapping[str, Any]], on_channel: Callable[[Event], bool],
        wait: float,
    ) -> Failure:
        arrived = [e for e in self.buffer.snapshot() if on_channel(e)]
        columns = list(rows[0])
        matched = 0
        for event in arrived:
            if matched < len(rows) and _row_matches(rows[matched], event):
                matched += 1
        lines = ["expected, in this order:"]
        lines += [f"  {i}. {_row_text(row)}" for i, row in enumerate(rows, 1)]
        lines.append(f"arrived ({len(arrived)}):" if arrived else "arrived: nothing")
        for i, event in enumerate(arrived[:_SHOWN], 1):
            ok, document = event.try_json()
            if not ok:
                lines.append(f"  {i}. (not JSON) {self._raw(event, 80)}")
                continue
            shown = {c: _column(document, c) for c in columns}
            lines.append(f"  {i}. {_row_text(self.secrets.redact_json(shown))}")
        lines.append(f"rows 1-{matched} arrived in order; row {matched + 1} did not follow"
                     if matched else "row 1 never arrived")
        return Failure(f'the events on "{channel}" did not arrive in this order within '
                       f"{_seconds(wait)}", self.secrets.redact("\n".join(lines)))

    def _show(self, event: Event) -> str:
        ok, document = event.try_json()
        text = json.dumps(self.secrets.redact_json(document)) if ok else self._raw(event, 200)
        if len(text) > 300:
            text = text[:300] + " …"
        return f"{event.channel} ({event.broker}{_position(event)}): {text}"

    def _raw(self, event: Event, limit: int) -> str:
        """A body that is not JSON, secrets hidden before it is cut."""
        return repr(self.secrets.shorten(event.body.decode("utf-8", "replace"), limit))

    def _attach_received(self) -> None:
        # Attachments are made here, on the step's thread: reporters attach to the running
        # step, which adapter threads know nothing about.
        events = self.buffer.snapshot()
        for event in events[self._attached :]:
            self._attach(f"event {event.channel}{_where_in(event)}", event.body,
                         key=event.key, headers=event.headers)
        self._attached = len(events)

    def _attach(self, name: str, body: bytes, key: str | None = None,
                headers: Mapping[str, str] | None = None) -> None:
        if self.reporter is None:
            return
        try:
            document = json.loads(body)
        except ValueError:
            text, kind = self.secrets.redact(body.decode("utf-8", "replace")), TEXT
        else:
            text, kind = pretty_json(self.secrets.redact_json(document)), JSON
        if key is None and not headers:
            self.reporter.attach(name, text, kind)
            return
        # Key and headers above the body, as a message viewer shows them.
        top = ([f"key: {key}"] if key is not None else []) + (
            ["headers:"] + [f"  {k}: {v}" for k, v in (headers or {}).items()] if headers else [])
        self.reporter.attach(name, self.secrets.redact("\n".join(top)) + "\n\n" + text, TEXT)


class _OnChannel:
    """Whether an event is on ``channel``, as received through the chosen listen of its
    broker (``sources``: broker name → listened pattern), and has ``key`` when one is given."""

    def __init__(self, channel: str, sources: dict[str, str], brokers: Mapping[str, Broker],
                 key: str | None = None):
        self.channel = channel
        self.sources = sources
        self.brokers = brokers
        self.key = key

    def __call__(self, event: Event) -> bool:
        return (self.sources.get(event.broker) == event.listen
                and self.brokers[event.broker].matches(self.channel, event.channel)
                and (self.key is None or event.key == self.key))


def _position(event: Event) -> str:
    """``, partition 0, offset 3, key "o-1"`` where the broker has them."""
    parts = [f"{k} {v}" for k, v in event.details.items()]
    if event.key is not None:
        parts.append(f'key "{event.key}"')
    return "".join(", " + p for p in parts)


def _where_in(event: Event) -> str:
    position = _position(event)
    return f" ({position[2:]})" if position else ""


def _check_expected(expected: Any) -> None:
    # An unknown marker is the suite's mistake: say so now, not after the timeout.
    compare(expected, None, "contains")


def _contains(expected: Any, event: Event) -> bool:
    ok, document = event.try_json()
    return ok and not compare(expected, document, "contains")


def _closest(expected: Any, events: Iterable[Event]) -> tuple[int, list[Any], Any] | None:
    best: tuple[int, list[Any], Any] | None = None
    for index, event in enumerate(events, 1):
        ok, document = event.try_json()
        if not ok:
            continue
        mismatches = compare(expected, document, "contains")
        if best is None or len(mismatches) < len(best[1]):
            best = (index, mismatches, document)
    return best


def _column(document: Any, column: str) -> Any:
    if column.startswith("$"):
        values = select(document, column)
        return values[0] if len(values) == 1 else (values or MISSING)
    if isinstance(document, dict):
        return document.get(column, MISSING)
    return MISSING


def _row_matches(row: Mapping[str, Any], event: Event) -> bool:
    ok, document = event.try_json()
    return ok and all(
        not compare(expected, _column(document, column), "contains")
        for column, expected in row.items()
    )


def _row_text(row: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k}={'(missing)' if v is MISSING else json.dumps(v, default=str)}" for k, v in row.items()
    )


def _text(value: Any) -> str | None:
    """A value as an id is compared: text and whole numbers (not booleans, not documents)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def _events(n: int) -> str:
    return "event" if n == 1 else "events"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:g} seconds"
