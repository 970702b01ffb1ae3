"""Backoff with jitter, Retry-After, and what is not retried."""

from __future__ import annotations

import pytest

from ombud.connectors import retry


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class BusyError(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        self.retry_after = retry_after


def test_backoff_doubles_with_equal_jitter_until_success() -> None:
    sleeps: list[float] = []
    fn = Flaky([BusyError(), BusyError(), BusyError()])
    result = retry(
        fn,
        attempts=4,
        base_delay=1.0,
        max_delay=3.0,
        retry_on=lambda exc: isinstance(exc, BusyError),
        sleep=sleeps.append,
        jitter=lambda: 1.0,
    )
    assert (result, fn.calls) == ("done", 4)
    assert sleeps == [1.0, 2.0, 3.0]  # doubling, capped at max_delay


def test_jitter_waits_between_half_and_all_of_the_delay() -> None:
    sleeps: list[float] = []
    retry(
        Flaky([BusyError()]),
        base_delay=2.0,
        retry_on=lambda _: True,
        sleep=sleeps.append,
        jitter=lambda: 0.0,
    )
    assert sleeps == [1.0]


def test_the_last_error_is_raised_when_attempts_run_out() -> None:
    fn = Flaky([BusyError(), BusyError(), BusyError()])
    with pytest.raises(BusyError):
        retry(fn, attempts=3, retry_on=lambda _: True, sleep=lambda _: None)
    assert fn.calls == 3


def test_other_errors_are_not_retried() -> None:
    fn = Flaky([ValueError("bad request")])
    with pytest.raises(ValueError, match="bad request"):
        retry(fn, retry_on=lambda exc: isinstance(exc, BusyError), sleep=lambda _: None)
    assert fn.calls == 1


def test_retry_after_is_waited_instead_of_the_backoff() -> None:
    sleeps: list[float] = []
    retry(
        Flaky([BusyError(retry_after=4.0)]),
        max_delay=10.0,
        retry_on=lambda _: True,
        retry_after=lambda exc: getattr(exc, "retry_after", None),
        sleep=sleeps.append,
    )
    assert sleeps == [4.0]


def test_a_retry_after_longer_than_max_delay_ends_the_retries() -> None:
    fn = Flaky([BusyError(retry_after=120.0)])
    with pytest.raises(BusyError):
        retry(
            fn,
            max_delay=10.0,
            retry_on=lambda _: True,
            retry_after=lambda exc: getattr(exc, "retry_after", None),
            sleep=lambda _: None,
        )
    assert fn.calls == 1
