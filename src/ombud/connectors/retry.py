"""Retries with exponential backoff and jitter, for transient failures of a system.

Used by the sql connector (a dropped connection, a deadlock) and the http
connector (connect errors, 5xx, 429 with ``Retry-After``). Sleeping and
randomness are parameters, so tests run without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["RetryPolicy", "retry"]

T = TypeVar("T")


def retry(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.2,
    max_delay: float = 10.0,
    retry_on: Callable[[Exception], bool],
    retry_after: Callable[[Exception], float | None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> T:
    """``fn()``, called up to ``attempts`` times while it raises an exception that
    ``retry_on`` accepts; the last exception is raised.

    Before attempt *n* + 1 it sleeps a random time between half and all of
    ``base_delay * 2**(n-1)``, capped at ``max_delay`` ("equal jitter": growing, and
    clients that failed together do not come back together). When ``retry_after``
    gives a delay the server asked for, that is waited instead; one longer than
    ``max_delay`` ends the retries at once (the caller resumes the step later).
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not retry_on(exc):
                raise
            asked = retry_after(exc)
            if asked is not None:
                if asked > max_delay:
                    raise
                delay = max(asked, 0.0)
            else:
                ceiling = min(max_delay, base_delay * 2 ** (attempt - 1))
                delay = ceiling / 2 + jitter() * ceiling / 2
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover: the loop returns or raises


@dataclass(frozen=True)
class RetryPolicy:
    """How a connector retries: passed in, so tests give it a ``sleep`` that records."""

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def call(
        self,
        fn: Callable[[], T],
        *,
        retry_on: Callable[[Exception], bool],
        retry_after: Callable[[Exception], float | None] = lambda _: None,
    ) -> T:
        return retry(
            fn,
            attempts=self.attempts,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            retry_on=retry_on,
            retry_after=retry_after,
            sleep=self.sleep,
            jitter=self.jitter,
        )
