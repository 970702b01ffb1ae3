"""Killing the process in the middle of an erasure and starting again completes it exactly once.

The erasure runs in a child process (``python`` on a small script) whose
``Runtime.connect`` seam wraps the real connector of the second automated system,
and the child kills itself with SIGKILL — no ``finally``, no rollback, no atexit —
either just after that system's erasure has committed (Ombud has not yet recorded
the step as done) or just after the step was marked running (before any connector
is made). Then this process runs the request again from what is on disk (Ombud's
store and the demo's systems) and compares everything with a clean run of the same
request on another copy of the demo.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from demo_systems import (
    Demo,
    audit_trail,
    build_once,
    complete_tasks,
    copy_demo,
    everywhere,
)

from ombud import audit, store
from ombud.rights.models import DataRequest, RequestState, RequestType, StepState
from ombud.rights.plan import is_automated, plan

#: The child: run the erasure with a connect seam that kills the process at MOMENT.
CHILD = textwrap.dedent(
    """
    import json
    import os
    import signal
    import sys
    from pathlib import Path

    tests, directory, store_url, request_id, victim, moment = sys.argv[1:]
    sys.path.insert(0, tests)

    from demo_systems import Demo

    from ombud import connectors, store
    from ombud.mail import MemoryTransport


    def die():
        os.kill(os.getpid(), signal.SIGKILL)


    class DiesOnceErased:
        # The real connector; the process dies as soon as an erasure has committed.
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def erase(self, *args, **kwargs):
            counts = self._inner.erase(*args, **kwargs)
            die()
            return counts


    def connect(spec):
        if spec.id != victim:
            return connectors.connect(spec)
        if moment == "before-connecting":
            die()
        return DiesOnceErased(connectors.connect(spec))


    manifest = json.loads((Path(directory) / "demo.json").read_text(encoding="utf-8"))
    demo = Demo(Path(directory), store.make_engine(store_url), manifest, MemoryTransport())
    demo.run(request_id, connect=connect)
    sys.exit("the erasure ran to its end: the process should have died first")
    """
)

#: Where the child dies: once the victim's erasure committed, or before it is connected.
MOMENTS = ["after-erasing", "before-connecting"]

Steps = list[tuple[str, str, str, int, Any]]
Trail = list[tuple[str, dict[str, int] | None]]


@dataclass(frozen=True)
class Run:
    """What an erasure left: its steps when it waits for the manual tasks, its steps and
    audit trail once completed, and the rows the scan still finds.
    """

    awaiting: Steps
    completed: Steps
    trail: Trail
    left: dict[str, dict[str, int]]


def _steps(request: DataRequest) -> Steps:
    return [(s.system_id, s.action, s.state, s.attempts, s.result) for s in request.steps]


def _scan(demo: Demo) -> dict[str, dict[str, int]]:
    return demo.scan(dict(everywhere(demo)))


def _finish(demo: Demo, request_id: str, awaiting: DataRequest) -> Run:
    """Complete the manual tasks, run again, and describe the outcome."""
    assert awaiting.state == RequestState.AWAITING, _steps(awaiting)
    assert complete_tasks(demo, request_id)
    completed = demo.run(request_id)
    assert completed.state == RequestState.COMPLETED, _steps(completed)
    return Run(
        _steps(awaiting), _steps(completed), audit_trail(demo.engine, request_id), _scan(demo)
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory)


@pytest.fixture(scope="module")
def clean(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same erasure run without a crash, on a copy of its own."""
    directory = tmp_path_factory.mktemp("clean")
    demo = copy_demo(built, directory / "demo", f"sqlite:///{directory / 'ombud.db'}")
    try:
        request_id = demo.request("erasure", everywhere(demo))
        return _finish(demo, request_id, demo.run(request_id))
    finally:
        demo.engine.dispose()


@pytest.fixture
def demo(built: Path, tmp_path: Path, database_url: str) -> Iterator[Demo]:
    copied = copy_demo(built, tmp_path / "demo", database_url)
    yield copied
    copied.engine.dispose()


def _victim(demo: Demo, holding: set[str]) -> tuple[str, str]:
    """The first and the second automated system the erasure reaches (legal holds aside:
    their rows stay, so a scan cannot tell whether the killed attempt got to them).
    """
    register = demo.register
    automated = {
        s.id
        for s in register.systems
        if is_automated(s) and not any(c.legal_hold for c in s.collections.values())
    }
    lead = register.organisation.lead
    assert lead is not None
    order = [
        s
        for s, _ in plan(register, RequestType.ERASURE, lead.id, [])
        if s in automated and s in holding
    ]
    return order[0], order[1]


def _kill_during_erasure(
    demo: Demo, request_id: str, victim: str, moment: str, tmp_path: Path
) -> None:
    script = tmp_path / "erase_and_die.py"
    script.write_text(CHILD, encoding="utf-8")
    url = demo.engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [
            sys.executable,
            str(script),
            str(Path(__file__).parent),
            str(demo.directory),
            url,
            request_id,
            victim,
            moment,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_erasure_completes_exactly_once_when_run_again(
    demo: Demo, clean: Run, moment: str, tmp_path: Path
) -> None:
    before = _scan(demo)
    first, victim = _victim(demo, set(before))
    assert {first, victim} <= set(before)
    request_id = demo.request("erasure", everywhere(demo))

    _kill_during_erasure(demo, request_id, victim, moment, tmp_path)

    # Where the crash left things: the steps before the victim's done (the first system's
    # among them), the victim's marked running, the rest not started.
    killed = demo.load(request_id)
    assert killed.state == RequestState.RUNNING
    steps = [((s.system_id, s.action), (s.state, s.attempts)) for s in killed.steps]
    at = steps.index(((victim, "erase"), (StepState.RUNNING, 1)))
    assert ((first, "erase"), (StepState.DONE, 1)) in steps[:at]
    assert {state for _, state in steps[:at]} == {(StepState.DONE, 1)}
    assert {state for _, state in steps[at + 1 :]} == {(StepState.PENDING, 0)}
    erased_already = moment == "after-erasing"
    assert (victim in _scan(demo)) is not erased_already
    with store.transaction(demo.engine) as session:
        assert audit.verify(session).ok

    # Started again: it carries on from the stored steps and ends as a clean run does.
    run = _finish(demo, request_id, demo.run(request_id))
    assert run.left == clean.left == {"accounting": before["accounting"]}
    retried = [i for i, step in enumerate(clean.awaiting) if step[:2] == (victim, "erase")]
    assert retried == [at]
    for ran, expected in ((run.awaiting, clean.awaiting), (run.completed, clean.completed)):
        assert len(ran) == len(expected)
        for index, (step, clean_step) in enumerate(zip(ran, expected, strict=True)):
            if index != at:
                assert step == clean_step  # the first system is not erased or counted twice
                continue
            # The second system's step ran twice. If its rows were gone already, the second
            # attempt found nothing to erase: it must not count more than a clean run.
            assert step[:4] == (*clean_step[:3], 2)
            assert step[4] in (clean_step[4], *([{"erased": {}}] if erased_already else []))
    assert run.trail in _trails(clean, erased_already=erased_already, at=at)
    assert [action for action, _ in run.trail].count("request.completed") == 1
    assert [action for action, _ in run.trail].count("request.planned") == 1
    with store.transaction(demo.engine) as session:
        assert audit.verify(session).ok


def _trails(clean: Run, *, erased_already: bool, at: int) -> list[Trail]:
    """The audit trails a killed and resumed erasure may leave: the clean run's, and, when
    the killed attempt had erased the victim's rows, the same without its counts (the step
    at index ``at`` of the plan).
    """
    trails = [clean.trail]
    if not erased_already:
        return trails
    steps = [i for i, (action, _) in enumerate(clean.trail) if action.startswith("request.step.")]
    victim = steps[at]
    lost = clean.trail[victim][1] or {}
    trail = list(clean.trail)
    trail[victim] = (trail[victim][0], None)
    done = next(i for i, (action, _) in enumerate(trail) if action == "request.completed")
    totals = {k: v - lost.get(k, 0) for k, v in (trail[done][1] or {}).items()}
    trail[done] = ("request.completed", {k: v for k, v in totals.items() if v} or None)
    return [*trails, trail]
