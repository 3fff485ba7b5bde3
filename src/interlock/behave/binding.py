"""How a plain function becomes a step sentence: ``@sentence``.

Every library sentence is registered for every keyword (``Given``/``When``/``Then``/``And``/
``But``: the keyword is for the reader), with a regular expression, and wrapped so that:

* a suite mistake (``InterlockError``) reads as one clean message with the feature file and
  line, never a traceback;
* a failed expectation (``Failure``) says where it happened;
* an expectation sentence also accepts the ``within <n> seconds,`` prefix: the check runs
  again until it holds (re-sending the last request first for response sentences) or, for
  event sentences, the wait itself gets that timeout (push, not poll).

Example (a domain step in a suite's ``steps/`` folder uses the plain API instead; this is
for library sentences):

    @sentence(r'the answer is (?P<value>\\d+)', expectation=True)
    def answer_is(world, value): ...
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, Literal

from interlock._core.errors import Failure, InterlockError
from interlock._core.values import parse_duration
from interlock._core.waiting import eventually

WITHIN = r"(?:within (?P<within>[^,\"]+?),\s*)?"
"""The ``within <duration>,`` prefix; any unit is taken here so that a wrong one ("5 hours")
is an error listing the units, not an undefined step."""
DURATION = r"(?P<{}>(?:\d+(?:\.\d+)?|\.\d+)\s*[A-Za-z]+)"
"""A duration at the end of a sentence (``within 2 seconds``, ``a delay of 1.5 seconds``);
the group is named by ``DURATION.format("name")``; the unit is checked by parse_duration."""
QUOTED = r'"(?P<{}>(?:[^"\\]|\\.)*)"'
"""A double-quoted name or value; the group is named by ``QUOTED.format("name")``."""

Retry = Literal["check", "resend", "wait"]


SENTENCES: list[tuple[str, Callable[..., Any]]] = []
"""Every library sentence, so that a runner whose step modules were loaded before (another
behave run in the same process) still gets them (``ensure_registered``)."""
_SENTENCE_RUNS: set[Callable[..., Any]] = set()  # the functions of SENTENCES, to look up


def _current_registry() -> Any:
    # While behave imports step modules it swaps in a module of its own whose `registry` is
    # the runner's; outside that, this is behave's global registry.
    import behave.step_registry

    module: Any = sys.modules.get("behave.step_registry") or behave.step_registry
    return module.registry


def _registries() -> list[Any]:
    """Where to register: the registry step imports see now, and the one behave's runner
    matches with (in some runs, a dry run among them, the two differ)."""
    import behave.runner

    found = [_current_registry(), behave.runner.the_step_registry]
    return [r for i, r in enumerate(found) if all(r is not other for other in found[:i])]


def _register(registry: Any, pattern: str, run: Callable[..., Any]) -> None:
    from behave.matchers import _the_step_matcher_factory

    from interlock.behave.matching import install_adding

    install_adding(registry, _is_sentence)

    factory: Any = getattr(registry, "step_matcher_factory", None) or _the_step_matcher_factory
    saved = factory.current_matcher
    factory.use_step_matcher("re")
    try:
        registry.add_step_definition("step", pattern, run)
    finally:
        factory._current_matcher = saved


def _is_sentence(func: Any) -> bool:
    """Whether ``func`` is one of the library's sentences (``sentence`` made it; not a
    suite's function that wraps one, which ``functools.wraps`` gives the same attributes)."""
    return func in _SENTENCE_RUNS


def ensure_registered(registry: Any) -> None:
    """Add the library's sentences to ``registry`` unless it has them already; steps are
    looked up there by their patterns' beginnings (``matching.py``)."""
    from interlock.behave.matching import install

    known = {getattr(d, "pattern", None) for d in registry.steps.get("step", [])}
    for pattern, run in SENTENCES:
        if f"^{pattern}$" not in known and pattern not in known:
            _register(registry, pattern, run)
    install(registry)


class SuiteMistake(AssertionError):
    """An ``InterlockError`` surfaced through behave: the suite, not the system, is wrong.

    It is an AssertionError only so that behave prints its message without a traceback; the
    message starts with "Suite error:" so reports (Allure categories) file it as a test defect.
    """


def q(name: str) -> str:
    """The pattern for a double-quoted argument named ``name``."""
    return QUOTED.format(name)


def _world(context: Any) -> Any:
    world = getattr(context, "interlock_world", None)
    if world is None:
        raise SuiteMistake(
            "Suite error: Interlock's hooks are not installed.\n"
            "  hint:  environment.py must import Interlock's hooks:\n"
            "         from interlock.behave.hooks import *  # noqa: F403"
        )
    return world


def domain_step(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For a suite's own steps: a suite mistake reads as one clean message with the feature
    file and line (like the library's sentences), a failure says where it happened.

    Example:
        @when('the dispatcher assigns the order to technician "{technician}"')
        @domain_step
        def assign(context, technician): ...
    """

    @functools.wraps(fn)
    def run(context: Any, *args: Any, **kwargs: Any) -> Any:
        world = getattr(context, "interlock_world", None)
        where = world.where if world is not None else ""
        try:
            return fn(context, *args, **kwargs)
        except InterlockError as err:
            err.located(where)
            raise SuiteMistake("Suite error: " + _hidden(err, world).render()) from None
        except Failure as failure:
            _hidden(failure.located(where), world)
            raise

    return run


def sentence(
    pattern: str, *, expectation: bool = False, retry: Retry = "check", serial: str = "",
    scoped: bool = False, breaks: str = "", scoped_by: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``pattern`` (a regex, anchored for you) as a step for every keyword.

    The function is called as ``fn(world, **groups)``; the step's docstring and table are
    ``world.step_text`` and ``world.step_table``. With ``expectation=True`` the sentence also
    takes the ``within <n> seconds,`` prefix; ``retry`` says how: "check" re-runs the
    function, "resend" re-sends the last request before each re-run, "wait" passes
    ``timeout=<seconds>`` to the function (which waits on its own, e.g. for an event).
    ``serial`` says why a feature that uses the sentence must not run beside another one
    on the shared stack (``interlock run -j`` runs it alone, and prints the reason), unless
    it is ``scoped`` and a step names a ``{variable}`` (an id the scenario created), which
    limits it to the scenario's own data, or the service its ``scoped_by`` group names
    (``stub``, ``service``) tells the scenarios' requests apart (a stub's or a delay proxy's
    ``scenario_header``); ``breaks`` why it must run alone because it stops or slows a service
    (the stack is healed after it), unless ``scoped_by`` says so too.
    """
    full = (WITHIN + pattern) if expectation else pattern

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(context: Any, within: str | None = None, **groups: Any) -> Any:
            world = _world(context)
            try:
                groups = {k: _unescape(v) for k, v in groups.items()}
                if within is None:
                    result = fn(world, **groups)
                else:
                    timeout = parse_duration(within, world.where)
                    if retry == "wait":
                        result = fn(world, timeout=timeout, **groups)
                    else:
                        before = world.http.resend if retry == "resend" else None
                        result = eventually(lambda: fn(world, **groups), timeout,
                                            before_retry=before)
                _stub_requests(world)
                return result
            except InterlockError as err:
                err.located(world.where)
                raise SuiteMistake("Suite error: " + _hidden(err, world).render()) from None
            except Failure as failure:
                _hidden(failure.located(world.where), world)
                raise

        run.interlock_serial = serial  # type: ignore[attr-defined]
        run.interlock_breaks = breaks  # type: ignore[attr-defined]
        run.interlock_scoped = scoped  # type: ignore[attr-defined]
        run.interlock_scoped_by = scoped_by  # type: ignore[attr-defined]
        SENTENCES.append((full, run))
        _SENTENCE_RUNS.add(run)
        for registry in _registries():
            _register(registry, full, run)
        return fn

    return decorate


def _stub_requests(world: Any) -> None:
    """What the stubs received during the step, attached to it, and checked against their
    OpenAPI documents: a request that breaks one fails this step (the hooks' ``after_step``
    does the same for a suite's own steps)."""
    if getattr(getattr(world, "suite", None), "stub_names", None):
        world.report_stub_requests()


_MAX_DETAILS = 20_000


def _hidden(err: Any, world: Any) -> Any:
    """The last gate before behave prints the error and Allure and JUnit keep it: every known
    secret hidden, then over-long details shortened (a few raisers leave the cut to here,
    knowing no secrets themselves)."""
    secrets = world.suite.secrets if world is not None else None
    if secrets is not None:
        err.title, err.where, err.hint = (secrets.redact(t) for t in (err.title, err.where,
                                                                       err.hint))
        err.details = secrets.shorten(err.details, _MAX_DETAILS, "\n…")
    return err


def _unescape(value: Any) -> Any:
    if isinstance(value, str) and "\\" in value:
        return value.replace('\\"', '"')
    return value
