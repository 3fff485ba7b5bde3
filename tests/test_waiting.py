"""eventually(): retry on Failure, never on a suite mistake, give up with the last mismatch."""

from __future__ import annotations

import pytest

from interlock._core.errors import Failure, InterlockError
from interlock._core.waiting import eventually


class Flaky:
    """A check that fails ``failures`` times (each with its own details), then passes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.retries = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise Failure(
                "response JSON does not match",
                f'$.status: expected "completed", got "pending #{self.calls}"',
                where="orders.feature:7",
                hint="the order is still being processed",
            )
        return f"passed on attempt {self.calls}"

    def before_retry(self) -> None:
        self.retries += 1


def test_passes_on_the_third_attempt_and_re_sends_before_each_retry():
    check = Flaky(failures=2)
    result = eventually(check, timeout=30, before_retry=check.before_retry, interval=0.001)
    assert result == "passed on attempt 3"
    assert check.calls == 3
    assert check.retries == 2  # before attempts 2 and 3, not before the first


def test_a_check_that_passes_at_once_runs_once_without_before_retry():
    check = Flaky(failures=0)
    assert eventually(check, timeout=30, before_retry=check.before_retry) == "passed on attempt 1"
    assert (check.calls, check.retries) == (1, 0)


def test_gives_up_with_the_last_mismatch_and_the_number_of_attempts():
    check = Flaky(failures=10**9)
    with pytest.raises(Failure) as caught:
        eventually(
            check, timeout=0.2, before_retry=check.before_retry, interval=0.001, max_interval=0.01
        )
    failure = caught.value
    attempts = check.calls
    assert attempts >= 2
    assert failure.title == (
        f"still failing after 0.2 seconds ({attempts} attempts): response JSON does not match"
    )
    assert failure.details == f'$.status: expected "completed", got "pending #{attempts}"'
    assert failure.where == "orders.feature:7"
    assert failure.hint == "the order is still being processed"
    assert isinstance(failure.__cause__, Failure)
    assert check.retries == attempts - 1


def test_a_zero_timeout_checks_exactly_once():
    check = Flaky(failures=1)
    with pytest.raises(Failure, match=r"still failing after 0 seconds \(1 attempt\)"):
        eventually(check, timeout=0, before_retry=check.before_retry)
    assert (check.calls, check.retries) == (1, 0)


def test_the_pause_is_cut_at_the_deadline():
    # A 60-second pause would hang the test: the pause must stop at the 0.1 s deadline,
    # after which exactly one last attempt is made.
    check = Flaky(failures=10**9)
    with pytest.raises(Failure, match=r"still failing after 0.1 seconds \((2|3) attempts\)"):
        eventually(check, timeout=0.1, interval=60, max_interval=60)


def test_a_suite_mistake_is_never_retried():
    calls = []

    def check() -> None:
        calls.append(1)
        raise InterlockError('Unknown variable "{order_idd}"', where="orders.feature:9")

    def before_retry() -> None:
        raise AssertionError("before_retry must not run for a suite mistake")

    with pytest.raises(InterlockError, match="order_idd"):
        eventually(check, timeout=30, before_retry=before_retry)
    assert calls == [1]


def test_a_suite_mistake_after_some_failures_stops_at_once():
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise Failure("not yet")
        raise InterlockError("the service was removed from the stack")

    with pytest.raises(InterlockError):
        eventually(check, timeout=30, interval=0.001)
    assert len(calls) == 3


def test_other_errors_propagate_unchanged():
    def check() -> None:
        raise ValueError("bug in a domain step")

    with pytest.raises(ValueError, match="bug in a domain step"):
        eventually(check, timeout=30)


def test_a_failing_before_retry_propagates():
    check = Flaky(failures=5)

    def before_retry() -> None:
        raise InterlockError("cannot re-send: no previous request")

    with pytest.raises(InterlockError, match="cannot re-send"):
        eventually(check, timeout=30, before_retry=before_retry, interval=0.001)
    assert check.calls == 1


def test_one_second_is_singular():
    check = Flaky(failures=10**9)
    with pytest.raises(Failure, match=r"^still failing after 1 second \("):
        eventually(check, timeout=1, interval=0.2, max_interval=0.5)


def test_a_failure_in_before_retry_counts_as_a_failed_attempt():
    check = Flaky(failures=1)
    resends = []

    def before_retry() -> None:
        resends.append(1)
        if len(resends) == 1:
            raise Failure("connection refused by orders (restarting)")

    assert eventually(check, timeout=30, before_retry=before_retry, interval=0.001) == (
        "passed on attempt 2"
    )
    assert len(resends) == 2


def test_without_retitle_the_last_failure_is_raised_as_the_check_raised_it():
    check = Flaky(failures=10**9)
    with pytest.raises(Failure) as failed:
        eventually(check, timeout=0.05, interval=0.01, retitle=False)
    assert failed.value.title == "response JSON does not match"
    assert f'"pending #{check.calls}"' in str(failed.value.details) and check.calls > 1
