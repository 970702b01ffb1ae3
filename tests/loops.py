"""Running a coroutine from a test, whatever event loop the test's thread has."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a new loop in a thread of its own.

    ``asyncio.run`` in the test's own thread fails once a browser test has run in
    the same worker: Playwright's sync API keeps an event loop running there.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
