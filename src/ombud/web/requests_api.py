"""`/api/v1/requests`: data subject requests as JSON, for websites, apps and integrators.

``POST`` is public, like the portal's form: the request waits until the person
opens the link (or types the code) mailed to the e-mail address given. A
caller with an API key of scope ``requests:write`` that has itself verified
the person may say how (``"verified": {"note": ...}``), and the request starts
verified. ``GET /api/v1/requests/{id}`` needs the scope ``requests:read``.

Identifiers are personal data: no answer or error repeats one (the route
class drops the input from validation errors, and the domain's messages never
contain identifier values).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from ombud import store
from ombud.rights.deadlines import swedish_date
from ombud.rights.errors import InvalidRequestError, RequestNotFoundError
from ombud.rights.intake import MAX_DETAILS, NewRequest, get_request
from ombud.rights.models import Channel, RequestType
from ombud.rights.summary import summarise
from ombud.store.apikeys import ApiKey, Scope
from ombud.web.auth import require_scope
from ombud.web.dispatch import after_verified
from ombud.web.forms import SubmissionLimiter
from ombud.web.gate import NoEchoRoute
from ombud.web.pages import client_address
from ombud.web.portal import SUBJECT, MailNotSentError, receive, register_served

router = APIRouter(tags=["data subject requests"], route_class=NoEchoRoute)

#: Longer than any identifier (an e-mail address is at most 254 characters).
MAX_IDENTIFIER_LENGTH = 320

Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Value = Annotated[str, StringConstraints(max_length=MAX_IDENTIFIER_LENGTH)]
ActivityId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Verified(BaseModel):
    """How the caller verified the person's identity (kept encrypted with the request)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=1000)


class RequestIn(BaseModel):
    """A data subject request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "objection",
                    "identifiers": {"email": "anna@example.se", "phone": "070-123 45 67"},
                    "language": "sv",
                    "activities": ["direct-marketing"],
                    "details": "Sluta ringa mig.",
                }
            ]
        },
    )

    type: RequestType
    identifiers: dict[Kind, Value] = Field(
        description="Identifier kind -> value: email (required unless verified), phone, "
        "personnummer, customer_id, ... and the register's own kinds."
    )
    language: str | None = Field(None, description="The answer's language; the register's first.")
    controller: str | None = Field(None, description="The joint controller concerned; the lead.")
    activities: list[ActivityId] = Field(
        default_factory=list,
        max_length=100,
        description="For an objection or a withdrawal: the activities it concerns.",
    )
    details: str | None = Field(None, max_length=MAX_DETAILS)
    verified: Verified | None = Field(
        None, description="Needs an API key with the scope requests:write."
    )


class RequestAccepted(BaseModel):
    id: str
    state: str
    due: dt.date = Field(description="The last day of the answer (Art. 12(3)).")
    verification: str = Field(
        description="`email`: waiting for the person to open the mailed link or type its code; "
        "`handler`: verified by the caller."
    )


# The same key sources as ombud.web.auth, optional here: the POST is public without a key.
_bearer = HTTPBearer(auto_error=False, description="An Ombud API key: `ombud apikey add`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same key.")
_writer = require_scope(Scope.REQUESTS_WRITE)


def optional_writer(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey | None:
    """None without a key; a key that is sent must be valid and allow requests:write."""
    if bearer is None and not header:
        return None
    return _writer(request, bearer, header)


@router.post(
    "/api/v1/requests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RequestAccepted,
    responses={
        401: {"description": "A key was sent that is unknown or revoked."},
        403: {"description": "The key lacks the scope `requests:write`."},
        422: {"description": "Malformed body, or a value the register does not accept."},
        429: {"description": "Too many requests from this address without a key."},
        503: {"description": "The verification mail could not be sent; try again later."},
    },
)
async def create(
    body: RequestIn,
    request: Request,
    key: Annotated[ApiKey | None, Depends(optional_writer)],
) -> Response:
    """Create a request; it is verified by e-mail unless a key's holder vouches for it.

    Answers 202 with the request's id, state and due date. The answer is the
    same whether or not anyone knows the e-mail address.
    """
    if body.verified is not None and key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="`verified` needs an API key with the scope requests:write",
            headers={"WWW-Authenticate": 'Bearer realm="ombud"'},
        )
    identifiers = {kind: value for kind, value in body.identifiers.items() if value.strip()}
    if body.verified is None and "email" not in identifiers:
        return _unprocessable(
            ["body", "identifiers", "email"],
            "an e-mail address is required: the person verifies the request through it",
            "missing",
        )
    state: State = request.app.state
    limiter: SubmissionLimiter = state.request_limiter
    # An integrator's key is not limited; the public's posts are, per address.
    admission = None if key is not None else await limiter.admit(client_address(request))
    if admission is not None and (wait := admission.wait):
        return JSONResponse(
            {"detail": f"too many requests from this address; try again in {wait} seconds"},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    new = NewRequest(
        type=body.type.value,
        identifiers=list(identifiers.items()),
        channel=Channel.API,
        language=body.language,
        controller_id=body.controller,
        activities=body.activities,
        details=body.details.strip() if body.details and body.details.strip() else None,
        verified_note=body.verified.note if body.verified is not None else None,
    )
    actor = SUBJECT if key is None else f"apikey:{key.id}"
    try:
        created = await run_in_threadpool(
            receive,
            state,
            register_served(request),
            new,
            actor=actor,
            now=dt.datetime.now(dt.UTC),
        )
    except InvalidRequestError as exc:
        await limiter.give_back(admission)
        return _unprocessable(["body"], str(exc), "invalid_request")
    except MailNotSentError:
        return JSONResponse(
            {"detail": "the verification mail could not be sent just now; try again later"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "300"},
        )
    after_verified(state, created)
    accepted = RequestAccepted(
        id=created.id,
        state=created.state,
        due=created.due,
        verification=created.verification or "email",
    )
    return JSONResponse(
        accepted.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"{request.scope.get('root_path', '')}/api/v1/requests/{created.id}"},
    )


@router.get(
    "/api/v1/requests/{request_id}",
    responses={
        401: {"description": "No API key, or an unknown or revoked one."},
        403: {"description": "The key lacks the scope `requests:read`."},
        404: {"description": "No request has that id."},
    },
)
def read(
    request_id: str,
    request: Request,
    _key: Annotated[ApiKey, Depends(require_scope(Scope.REQUESTS_READ))],
) -> dict[str, Any]:
    """A request's state, due date and per-system steps; no personal data."""
    now = dt.datetime.now(dt.UTC)
    try:
        with store.transaction(request.app.state.engine) as session:
            found = get_request(session, request_id)
            return summarise(found, today=swedish_date(now))
    except RequestNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no request has that id") from None


def _unprocessable(loc: list[str | int], msg: str, kind: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": loc, "msg": msg, "type": kind}]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
