"""Running a verified request in the real systems, one stored, idempotent step at a time.

:func:`run` plans the request's steps once, then runs every step that is not
done. A step commits its state before and after its work, and every action is
safe to repeat (a second erase finds nothing more to change), so a run killed
half-way is completed exactly once by the next one. A system that fails is
reported on its step and the request waits; nothing is silently half-done.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ombud import audit, connectors, store
from ombud.connectors import (
    Connector,
    ConnectorError,
    Counts,
    Found,
    Key,
    Lookup,
    Strategy,
    SystemSpec,
    spec_from_register,
    traverse,
)
from ombud.consent.ledger import erase_subject
from ombud.discovery import also_known_as
from ombud.register.model import Register
from ombud.rights.errors import RequestStateError
from ombud.rights.intake import get_request, plaintext_identifiers
from ombud.rights.matching import Match, learned_identifiers, narrow
from ombud.rights.models import (
    DataRequest,
    ManualTask,
    RequestIdentifier,
    RequestState,
    RequestStep,
    RequestType,
    Restriction,
    StepState,
    Suppression,
)
from ombud.rights.outcome import erasure_grounds
from ombud.rights.plan import StepAction, plan, systems_in_scope
from ombud.rights.states import move
from ombud.store.crypto import Keys

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Runtime:
    """What running a request needs from outside: the register, keys, and seams."""

    register: Register
    register_dir: Path
    keys: Keys
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    connect: Callable[[SystemSpec], Connector] = connectors.connect
    clock: Clock = _utc_now
    #: Called once the answer is packaged (to mail the link).
    on_package: Callable[[Session, DataRequest], None] | None = None
    #: Called when the request completes (to tell the person what was done).
    on_complete: Callable[[Session, DataRequest], None] | None = None
    actor: str = "worker"


def run(engine: Engine, request_id: str, runtime: Runtime) -> DataRequest:
    """Run every step of a verified request that is not done; returns it in its new state.

    Raises :class:`RequestStateError` for a request that is not verified or running.
    """
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        if request.state not in (
            RequestState.VERIFIED,
            RequestState.RUNNING,
            RequestState.AWAITING,
        ):
            raise RequestStateError(
                f"request {request.id} is {request.state}; only a verified request runs"
            )
        if not request.steps:
            _plan(session, request, runtime)
        if request.state != RequestState.RUNNING:
            move(session, request, RequestState.RUNNING, actor=runtime.actor, now=runtime.clock())
        step_ids = [s.id for s in request.steps]

    systems = _Systems(runtime)
    try:
        for step_id in step_ids:
            _run_step(engine, request_id, step_id, runtime, systems)
    finally:
        systems.close()

    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        states = {StepState(s.state) for s in request.steps}
        totals = _totals(request.steps)
        # A rectification is applied only once a handler has chosen the corrections.
        undecided = request.type == RequestType.RECTIFICATION and not (
            (request.decisions or {}).get("rectify")
        )
        if states <= {StepState.DONE} and not undecided:
            move(
                session,
                request,
                RequestState.COMPLETED,
                actor=runtime.actor,
                now=runtime.clock(),
                counts=totals,
            )
            if runtime.on_complete is not None:
                runtime.on_complete(session, request)
        elif request.state == RequestState.RUNNING:
            move(
                session,
                request,
                RequestState.AWAITING,
                actor=runtime.actor,
                now=runtime.clock(),
                counts={s.value: sum(x.state == s for x in request.steps) for s in states},
            )
        return request


def _plan(session: Session, request: DataRequest, runtime: Runtime) -> None:
    now = runtime.clock()
    for system_id, action in plan(
        runtime.register, RequestType(request.type), request.controller_id, request.activities or []
    ):
        request.steps.append(
            RequestStep(
                system_id=system_id,
                action=action.value,
                state=StepState.PENDING.value,
                updated_at=now,
            )
        )
    session.flush()
    audit.append(
        session,
        actor=runtime.actor,
        action="request.planned",
        object_id=f"request:{request.id}",
        counts={"steps": len(request.steps)},
    )


class _Systems:
    """The connectors of one run: each system connected and checked once, closed at the end."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._open: dict[str, tuple[Connector, SystemSpec]] = {}

    def get(self, system_id: str) -> tuple[Connector, SystemSpec]:
        if system_id not in self._open:
            system = next(s for s in self._runtime.register.systems if s.id == system_id)
            spec = spec_from_register(
                system, environ=self._runtime.environ, base_dir=self._runtime.register_dir
            )
            connector = self._runtime.connect(spec)
            try:
                # A declared column the system lacks fails here, by name, before any change.
                connector.check()
            except ConnectorError:
                connector.close()
                raise
            self._open[system_id] = (connector, spec)
        return self._open[system_id]

    def close(self) -> None:
        for connector, _ in self._open.values():
            connector.close()
        self._open.clear()


def _run_step(
    engine: Engine, request_id: str, step_id: int, runtime: Runtime, systems: _Systems
) -> None:
    with store.transaction(engine) as session:
        step = session.get(RequestStep, step_id)
        assert step is not None
        if step.state == StepState.DONE:
            return
        if step.state == StepState.WAITING and not _waiting_resolved(session, step):
            return
        if step.action == StepAction.PACKAGE and any(
            other.state != StepState.DONE for other in step.request.steps if other is not step
        ):
            return  # the answer is packaged from every system's rows, or not at all
        step.state = StepState.RUNNING.value
        step.attempts += 1
        step.updated_at = runtime.clock()

    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        step = session.get(RequestStep, step_id)
        assert step is not None
        work = _Work(session, request, step, runtime, systems)
        try:
            outcome = work.do()
        except ConnectorError as exc:
            session.rollback()
            _fail(engine, step_id, str(exc), runtime)
            return
        step.state = outcome.state.value
        step.result = outcome.result
        step.error = outcome.note
        step.updated_at = runtime.clock()
        audit.append(
            session,
            actor=runtime.actor,
            action=f"request.step.{outcome.state.value}",
            object_id=f"request:{request_id}",
            counts=_numbers(outcome.result),
        )


def _fail(engine: Engine, step_id: int, message: str, runtime: Runtime) -> None:
    with store.transaction(engine) as session:
        step = session.get(RequestStep, step_id)
        assert step is not None
        step.state = StepState.FAILED.value
        step.error = message
        step.updated_at = runtime.clock()
        audit.append(
            session,
            actor=runtime.actor,
            action="request.step.failed",
            object_id=f"request:{step.request_id}",
        )


def _waiting_resolved(session: Session, step: RequestStep) -> bool:
    """A waiting step may go on once its manual task is done or its ambiguity decided."""
    if step.action == StepAction.TELL:
        task = session.scalars(
            select(ManualTask).where(
                ManualTask.request_id == step.request_id,
                ManualTask.system_id == step.system_id,
            )
        ).one_or_none()
        return task is not None and task.state != "pending"
    request = session.get(DataRequest, step.request_id)
    decided = ((request.decisions or {}).get("match") or {}) if request else {}
    return step.system_id in decided


@dataclass(frozen=True)
class _Outcome:
    state: StepState
    result: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


class _Work:
    """One step's work; each action is a method, safe to repeat."""

    def __init__(
        self,
        session: Session,
        request: DataRequest,
        step: RequestStep,
        runtime: Runtime,
        systems: _Systems,
    ) -> None:
        self.session = session
        self.request = request
        self.step = step
        self.runtime = runtime
        self.systems = systems
        self.register = runtime.register
        self.now = runtime.clock()

    def do(self) -> _Outcome:
        action = StepAction(self.step.action)
        handler: Callable[[], _Outcome] = getattr(self, f"_{action.value}")
        return handler()

    # --- the person's rows in one system ----------------------------------------------------

    def _lookup(self) -> Lookup:
        values: dict[str, set[str]] = {}
        for kind, value in plaintext_identifiers(self.request, self.runtime.keys):
            values.setdefault(kind, set()).add(value)
            # A sole trader's company rows are the person's (its orgnr is their personnummer).
            for other, same in also_known_as(kind, value):
                values.setdefault(other, set()).add(same)
        return Lookup({kind: frozenset(v) for kind, v in values.items()})

    def _match(self, connector: Connector, spec: SystemSpec) -> Match:
        lookup = self._lookup()
        decided = ((self.request.decisions or {}).get("match") or {}).get(spec.id)
        match = narrow(traverse(connector, lookup), spec, lookup, decided)
        if not match.ambiguous:
            self._learn(match, spec, lookup)
        return match

    def _learn(self, match: Match, spec: SystemSpec, lookup: Lookup) -> None:
        """Add the strong identifiers found on the person's rows (their customer number in
        the CRM, their personnummer) to the request, so the systems that know the person
        only by those are searched too. Contact details are not added: an address can be
        shared, a strong identifier cannot.
        """
        learned = learned_identifiers(match, spec, lookup)
        known = {(i.kind, i.digest) for i in self.request.identifiers}
        added = 0
        for kind, value in sorted(learned):
            digest = self.runtime.keys.identifier(kind, value)
            if (kind, digest) in known:
                continue
            self.request.identifiers.append(
                RequestIdentifier(
                    kind=kind,
                    digest=digest,
                    ciphertext=self.runtime.keys.encrypt(value, context=self.request.id),
                )
            )
            added += 1
        if added:
            self.session.flush()
            audit.append(
                self.session,
                actor=self.runtime.actor,
                action="request.identifiers_learned",
                object_id=f"request:{self.request.id}",
                counts={"identifiers": added},
            )

    def _with_connector(self, work: Callable[[Connector, SystemSpec], _Outcome]) -> _Outcome:
        connector, spec = self.systems.get(self.step.system_id)
        return work(connector, spec)

    def _ambiguous(self, match: Match) -> _Outcome:
        return _Outcome(
            StepState.WAITING,
            {"ambiguous": {c: len(keys) for c, keys in match.ambiguous.items()}},
            "several people match the identifiers; a handler must choose the right records",
        )

    # --- actions ----------------------------------------------------------------------------

    def _find(self) -> _Outcome:
        def work(connector: Connector, spec: SystemSpec) -> _Outcome:
            match = self._match(connector, spec)
            if match.ambiguous:
                return self._ambiguous(match)
            rows = [_row_json(spec, found) for found in match.rows]
            self.step.payload = self.runtime.keys.encrypt(
                json.dumps(rows, ensure_ascii=False), context=f"{self.request.id}:{spec.id}"
            )
            return _Outcome(StepState.DONE, {"found": _per_collection(match.rows)})

        return self._with_connector(work)

    def _erase(self) -> _Outcome:
        def work(connector: Connector, spec: SystemSpec) -> _Outcome:
            match = self._match(connector, spec)
            if match.ambiguous:
                return self._ambiguous(match)
            excepted = self._excepted_collections(spec)
            # Other people's rows that point at the person lose the link first, one
            # statement per collection and column, so no foreign key blocks the erasure.
            links: dict[tuple[str, str], list[Key]] = {}
            for mention_collection, mentions in match.mentions.items():
                for mention in mentions:
                    links.setdefault((mention_collection, mention.column), []).append(mention.key)
            for (mention_collection, column), keys in links.items():
                connector.erase(
                    mention_collection,
                    keys,
                    {column: Strategy.NULL},
                    hash_key=self.runtime.keys.hmac_key,
                )
            totals: dict[str, Counts] = {}
            for name in connectors.erasure_order(spec):
                keys = [row.key for row in match.rows if row.collection == name]
                collection = spec.collections[name]
                if keys and (collection.held or name in excepted):
                    counts = (
                        connector.erase(
                            name, keys, collection.erasure, hash_key=self.runtime.keys.hmac_key
                        )
                        if collection.held
                        else connector.restrict(name, keys, on=True)
                    )
                    totals[name] = (
                        counts
                        if collection.held
                        else Counts(
                            name, matched=len(keys), restricted=counts.restricted, held=len(keys)
                        )
                    )
                elif keys:
                    totals[name] = connector.erase(
                        name, keys, collection.erasure, hash_key=self.runtime.keys.hmac_key
                    )
            return _Outcome(StepState.DONE, {"erased": _counts_json(totals)})

        return self._with_connector(work)

    def _excepted_collections(self, spec: SystemSpec) -> set[str]:
        """Collections every activity of whose system keeps the data under Art. 17(3)."""
        system = next(s for s in self.register.systems if s.id == spec.id)
        activities = [self.register.activity(a) for a in system.activities]
        if activities and all(a is not None and a.erasure is not None for a in activities):
            return set(spec.collections)
        return set()

    def _verify(self) -> _Outcome:
        def work(connector: Connector, spec: SystemSpec) -> _Outcome:
            match = self._match(connector, spec)
            excepted = self._excepted_collections(spec)
            left = {
                c: n
                for c, n in _per_collection(match.rows).items()
                if not spec.collections[c].held and c not in excepted
            }
            if left:
                return _Outcome(
                    StepState.FAILED,
                    {"remaining": left},
                    "rows matching the person remain after erasure",
                )
            return _Outcome(
                StepState.DONE,
                {
                    "remaining": {},
                    "kept": _per_collection([r for r in match.rows if r.collection not in left]),
                },
            )

        return self._with_connector(work)

    def _restrict(self) -> _Outcome:
        def work(connector: Connector, spec: SystemSpec) -> _Outcome:
            match = self._match(connector, spec)
            if match.ambiguous:
                return self._ambiguous(match)
            totals: dict[str, Counts] = {}
            for name, collection in spec.collections.items():
                keys = [row.key for row in match.rows if row.collection == name]
                if keys and collection.restrict:
                    totals[name] = connector.restrict(name, keys, on=True)
            return _Outcome(StepState.DONE, {"restricted": _counts_json(totals)})

        return self._with_connector(work)

    def _withdraw(self) -> _Outcome:
        return self._erase()

    def _rectify(self) -> _Outcome:
        corrections = ((self.request.decisions or {}).get("rectify") or {}).get(
            self.step.system_id, []
        )

        def work(connector: Connector, spec: SystemSpec) -> _Outcome:
            del spec
            totals: dict[str, Counts] = {}
            for item in corrections:
                collection = str(item["collection"])
                value = self.runtime.keys.decrypt(
                    bytes.fromhex(item["value"]), context=f"{self.request.id}:rectify"
                )
                counts = connector.rectify(
                    collection, tuple(item["key"]), {str(item["column"]): value}
                )
                totals[collection] = totals[collection] + counts if collection in totals else counts
            return _Outcome(StepState.DONE, {"rectified": _counts_json(totals)})

        return self._with_connector(work)

    def _tell(self) -> _Outcome:
        system = next(s for s in self.register.systems if s.id == self.step.system_id)
        task = self.session.scalars(
            select(ManualTask).where(
                ManualTask.request_id == self.request.id,
                ManualTask.system_id == system.id,
            )
        ).one_or_none()
        if task is None:
            self.session.add(
                ManualTask(
                    request_id=self.request.id,
                    system_id=system.id,
                    action=_TASK_ACTION[RequestType(self.request.type)],
                    owner=system.owner or "dpo",
                    state="pending",
                    created_at=self.now,
                )
            )
            return _Outcome(
                StepState.WAITING, {"task": "created"}, f"a task for {system.owner or 'the DPO'}"
            )
        if task.state == "pending":
            return _Outcome(StepState.WAITING, {"task": "pending"})
        if task.state == "failed":
            return _Outcome(StepState.FAILED, {"task": "failed"}, "the manual task failed")
        return _Outcome(StepState.DONE, {"task": "done"})

    # --- Ombud's own records ----------------------------------------------------------------

    def _digests(self) -> list[tuple[str, str]]:
        return sorted({(i.kind, i.digest) for i in self.request.identifiers})

    def _suppress(self) -> _Outcome:
        systems = systems_in_scope(self.register, self.request.controller_id)
        activities = sorted({a for system in systems for a in system.activities})
        lead = self.register.organisation.lead
        if self.request.type != RequestType.ERASURE:
            reason, scope = "consent_withdrawn", list(self.request.activities or [])
        elif lead is not None and self.request.controller_id == lead.id:
            reason, scope = "erasure", [""]  # every activity of every joint controller
        else:
            # Erased by a subsidiary: its activities only; the others still hold the data.
            reason, scope = "erasure", activities
        added = 0
        for kind, digest in self._digests():
            for activity in scope:
                added += self._add_suppression(kind, digest, reason, activity)
        if scope == [""]:
            # The consent ledger's own records of the person go too (the only way out).
            erase_subject(self.session, {d for _, d in self._digests()}, actor=self.runtime.actor)
        return _Outcome(
            StepState.DONE,
            {"suppressed": added, "grounds": erasure_grounds(self.register, activities)},
        )

    def _add_suppression(self, kind: str, digest: str, reason: str, activity: str) -> int:
        exists = self.session.scalars(
            select(Suppression.id).where(
                Suppression.digest == digest,
                Suppression.reason == reason,
                Suppression.activity == activity,
            )
        ).first()
        if exists is not None:
            return 0
        self.session.add(
            Suppression(
                digest=digest,
                kind=kind,
                reason=reason,
                activity=activity,
                request_id=self.request.id,
                created_at=self.now,
            )
        )
        return 1

    def _record(self) -> _Outcome:
        if self.request.type == RequestType.RESTRICTION:
            added = self._add_restrictions("restriction", [""])
            return _Outcome(StepState.DONE, {"restrictions": added})
        marketing, other = [], []
        for activity_id in self.request.activities or []:
            activity = self.register.activity(activity_id)
            if activity is not None and activity.direct_marketing:
                marketing.append(activity_id)
            elif activity is not None:
                other.append(activity_id)
        # Art. 21(2)-(3): an objection to direct marketing is absolute and immediate.
        suppressed = sum(
            self._add_suppression(kind, digest, "objection", activity)
            for kind, digest in self._digests()
            for activity in marketing
        )
        # Art. 21(1): the rest is restricted while the DPO weighs compelling grounds.
        decisions = (self.request.decisions or {}).get("objection") or {}
        undecided = [a for a in other if a not in decisions]
        pending = self._add_restrictions("objection_pending", undecided)
        result = {"suppressed": suppressed, "restricted": pending, "undecided": len(undecided)}
        if undecided:
            return _Outcome(
                StepState.WAITING,
                result,
                "the DPO must decide the objection to: " + ", ".join(undecided),
            )
        return _Outcome(StepState.DONE, result)

    def _add_restrictions(self, reason: str, activities: Iterable[str]) -> int:
        added = 0
        for _, digest in self._digests():
            for activity in activities:
                exists = self.session.scalars(
                    select(Restriction.id).where(
                        Restriction.digest == digest,
                        Restriction.reason == reason,
                        Restriction.activity == activity,
                        Restriction.lifted_at.is_(None),
                    )
                ).first()
                if exists is None:
                    self.session.add(
                        Restriction(
                            digest=digest,
                            activity=activity,
                            reason=reason,
                            request_id=self.request.id,
                            created_at=self.now,
                        )
                    )
                    added += 1
        return added

    def _package(self) -> _Outcome:
        from ombud.rights.answer import package  # noqa: PLC0415 - WeasyPrint loads lazily

        count = package(
            self.session, self.request, self.runtime.register, keys=self.runtime.keys, now=self.now
        )
        if self.runtime.on_package is not None:
            self.runtime.on_package(self.session, self.request)
        return _Outcome(StepState.DONE, {"rows": count})


_TASK_ACTION = {
    RequestType.ACCESS: "find",
    RequestType.ERASURE: "erase",
    RequestType.RESTRICTION: "restrict",
    RequestType.RECTIFICATION: "rectify",
    RequestType.PORTABILITY: "find",
    RequestType.OBJECTION: "restrict",
    RequestType.WITHDRAW_CONSENT: "erase",
}


def _row_json(spec: SystemSpec, found: Found) -> dict[str, Any]:
    collection = spec.collections[found.collection]
    return {
        "collection": found.collection,
        "key": [_jsonable(k) for k in found.key],
        "values": {c: _jsonable(v) for c, v in found.values.items()},
        "categories": dict(collection.fields),
        "legal_hold": collection.held,
        "restricted": bool(collection.restrict and found.values.get(collection.restrict)),
    }


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"(binary, {len(value)} bytes)"
    return str(value)


def _per_collection(rows: Iterable[Found]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.collection] = counts.get(row.collection, 0) + 1
    return counts


def _counts_json(totals: Mapping[str, Counts]) -> dict[str, dict[str, int]]:
    return {
        name: {k: v for k, v in vars(c).items() if k != "collection" and v}
        for name, c in totals.items()
    }


def _numbers(result: Mapping[str, Any]) -> dict[str, int] | None:
    """The step's figures flattened for the audit entry: counts only, no names of people."""
    flat: dict[str, int] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            flat[prefix] = flat.get(prefix, 0) + value
        elif isinstance(value, Mapping):
            for key, inner in value.items():
                walk(key if isinstance(inner, int) else prefix or str(key), inner)

    walk("", result)
    return {k: v for k, v in flat.items() if k} or None


def _totals(steps: Iterable[RequestStep]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for step in steps:
        for key, value in (_numbers(step.result or {}) or {}).items():
            totals[key] = totals.get(key, 0) + value
    return totals


def lift_restriction(
    engine: Engine, request_id: str, runtime: Runtime, *, tell: Callable[[DataRequest], bool]
) -> DataRequest:
    """Lift the restriction a completed restriction request set (Art. 18(3)).

    The person is told first: ``tell`` must send the notice and return True, or nothing
    is lifted. Then the restrict columns are cleared in every automated system and the
    restrictions Ombud recorded for the gate are marked lifted, with an audit entry.
    """
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        if request.type != RequestType.RESTRICTION or request.state != RequestState.COMPLETED:
            raise RequestStateError(
                f"request {request.id} is not a completed restriction; nothing to lift"
            )
        if not tell(request):
            raise RequestStateError(
                f"the person of request {request.id} could not be told; the restriction "
                "stays until they are (Art. 18(3))"
            )
    cleared = 0
    for system in systems_in_scope(runtime.register, request.controller_id):
        if system.connector.value == "manual":
            continue
        spec = spec_from_register(system, environ=runtime.environ, base_dir=runtime.register_dir)
        connector = runtime.connect(spec)
        try:
            connector.check()
            lookup = Lookup(
                {
                    kind: frozenset(
                        v for k, v in plaintext_identifiers(request, runtime.keys) if k == kind
                    )
                    for kind in {i.kind for i in request.identifiers}
                }
            )
            match = narrow(
                traverse(connector, lookup),
                spec,
                lookup,
                ((request.decisions or {}).get("match") or {}).get(spec.id),
            )
            for name, collection in spec.collections.items():
                keys = [row.key for row in match.rows if row.collection == name]
                if keys and collection.restrict and not collection.held:
                    cleared += connector.restrict(name, keys, on=False).restricted
        finally:
            connector.close()
    with store.transaction(engine) as session:
        request = get_request(session, request_id)
        now = runtime.clock()
        for restriction in session.scalars(
            select(Restriction).where(
                Restriction.request_id == request.id, Restriction.lifted_at.is_(None)
            )
        ):
            restriction.lifted_at = now
        audit.append(
            session,
            actor=runtime.actor,
            action="request.restriction_lifted",
            object_id=f"request:{request.id}",
            counts={"rows": cleared},
        )
        return request
