"""`POST /api/v1/processing/check`: the processing gate over HTTP, for integrators with a key.

Subjects are personal data: the answer refers to them by their index in the
request and never repeats an identifier, and neither do its errors (FastAPI's
validation errors would echo the input; this router's route class drops it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ombud import store
from ombud.consent.source import LEDGER
from ombud.gate import (
    MAX_SUBJECTS,
    BatchTooLargeError,
    ConsentSource,
    InvalidSubjectError,
    Reason,
    UnknownActivityError,
    check,
)
from ombud.store.apikeys import ApiKey, Scope
from ombud.store.crypto import Keys
from ombud.web.auth import require_scope
from ombud.web.registry import RegisterSource

#: The most activities one call may name; registers have tens.
MAX_ACTIVITIES = 100
#: Longer than any identifier (an e-mail address is at most 254 characters).
MAX_IDENTIFIER_LENGTH = 320

ActivityId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Value = Annotated[str, StringConstraints(max_length=MAX_IDENTIFIER_LENGTH)]


class CheckRequest(BaseModel):
    """Activities (register ids) and subjects (identifier kind -> value) to check."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "activities": ["direct-marketing"],
                    "subjects": [
                        {"email": "anna@example.se"},
                        {"personnummer": "811218-9876", "phone": "070-123 45 67"},
                    ],
                }
            ]
        },
    )

    activities: list[ActivityId] = Field(min_length=1, max_length=MAX_ACTIVITIES)
    subjects: list[dict[Kind, Value]] = Field(max_length=MAX_SUBJECTS)


class CheckResult(BaseModel):
    subject: int = Field(description="The subject's index in the request.")
    activity: str
    allowed: bool
    reasons: list[Reason]


class CheckResponse(BaseModel):
    register_version: str = Field(description="The register version the answer rests on.")
    results: list[CheckResult] = Field(
        description="One per subject and activity: by subject, then activities as given."
    )


def _error(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}


def _without_input(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors with only where, what and which kind: no ``input``, no ``ctx``."""
    cleaned = []
    for error in errors:
        loc = list(error.get("loc", ()))
        msg = str(error.get("msg", "invalid"))
        if "[key]" in loc:
            # A bad key of a subject may be a value sent in the wrong place: not repeated.
            del loc[loc.index("[key]") - 1]
            msg = "identifier kinds are lower-case names such as email, phone or personnummer"
        if error.get("type") == "too_long" and loc == ["body", "subjects"]:
            msg = f"at most {MAX_SUBJECTS} subjects per call; split the batch"
        cleaned.append(_error(loc, msg, str(error.get("type", "invalid"))))
    return cleaned


class NoEchoRoute(APIRoute):
    """A route whose 422 answers never repeat what was sent (it may be personal data)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse(
                    {"detail": _without_input(exc.errors())},
                    status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                )

        return route


router = APIRouter(tags=["processing gate"], route_class=NoEchoRoute)


def consent_source() -> ConsentSource:
    """The consent ledger the gate reads; the seam the ledger (and tests) plug into."""
    return LEDGER


def _keys(request: Request) -> Keys:
    """The identifier HMAC key that create_app derived from OMBUD_SECRET_KEY."""
    keys: Keys = request.app.state.keys
    return keys


@router.post(
    "/api/v1/processing/check",
    response_model=CheckResponse,
    responses={
        401: {"description": "No API key, or an unknown or revoked one."},
        403: {"description": "The key lacks the scope `processing:check`."},
        422: {"description": "Malformed body, unknown activity or malformed identifier."},
    },
)
def processing_check(
    body: CheckRequest,
    request: Request,
    _key: Annotated[ApiKey, Depends(require_scope(Scope.PROCESSING_CHECK))],
    keys: Annotated[Keys, Depends(_keys)],
    consent: Annotated[ConsentSource, Depends(consent_source)],
) -> Response:
    """May these activities touch these subjects now? One result per subject and activity.

    Reasons for a refusal: `suppressed`, `objected`, `restricted`,
    `protected_identity`, `no_consent`, `withdrawn` (docs/gate.md). Needs a key
    with the scope `processing:check`.
    """
    served = _source(request).current()
    try:
        with store.transaction(request.app.state.engine) as session:
            decisions = check(
                session,
                keys,
                served.register,
                activities=body.activities,
                subjects=body.subjects,
                now=dt.datetime.now(dt.UTC),
                consent=consent,
            )
    except UnknownActivityError as exc:
        detail = [
            _error(
                ["body", "activities", body.activities.index(activity)],
                f"unknown activity {activity!r}; the register has: {', '.join(exc.known)}",
                "unknown_activity",
            )
            for activity in exc.activities
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    except InvalidSubjectError as exc:
        detail = [
            _error(
                ["body", "subjects", p.index, *([p.field] if p.field else [])],
                p.reason,
                "invalid_identifier",
            )
            for p in exc.problems
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    except BatchTooLargeError as exc:
        return JSONResponse({"detail": [_error(["body", "subjects"], str(exc), "too_long")]}, 422)
    # Built as plain JSON: re-validating tens of thousands of results through the
    # response model would cost more than the check itself.
    return JSONResponse(
        {
            "register_version": served.version,
            "results": [
                {
                    "subject": d.subject,
                    "activity": d.activity,
                    "allowed": d.allowed,
                    "reasons": [r.value for r in d.reasons],
                }
                for d in decisions
            ],
        },
        # Decisions about named people: no cache on the way may keep them.
        headers={"Cache-Control": "no-store"},
    )


def _source(request: Request) -> RegisterSource:
    source: RegisterSource = request.app.state.register
    return source
