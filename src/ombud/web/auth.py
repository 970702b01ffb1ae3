"""API keys at the HTTP edge: ``Depends(require_scope(Scope.X))`` on a route.

The key comes as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
A missing, unknown or revoked key is 401 with ``WWW-Authenticate`` (RFC 6750);
a valid key without the scope is 403. Keys are made with `ombud apikey add`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from ombud import store
from ombud.store.apikeys import ApiKey, Scope, verify_key

__all__ = ["require_scope"]

_REALM = 'Bearer realm="ombud"'

# auto_error=False: a missing key must answer 401 with our message, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="An Ombud API key: `ombud apikey add`.")
_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The same key, for clients without Bearer."
)

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Header = Annotated[str | None, Depends(_header)]


def _unauthorized(message: str, *, invalid: bool) -> HTTPException:
    challenge = f'{_REALM}, error="invalid_token"' if invalid else _REALM
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": challenge}
    )


def require_scope(scope: Scope) -> Callable[..., ApiKey]:
    """A dependency returning the request's API key once it is valid and has ``scope``."""

    def authenticated(request: Request, bearer: Bearer, header: Header) -> ApiKey:
        key = bearer.credentials if bearer is not None else header
        if not key:
            raise _unauthorized(
                "an API key is required: send `Authorization: Bearer <key>` or "
                "`X-API-Key: <key>` (`ombud apikey add` creates one)",
                invalid=False,
            )
        engine: Engine = request.app.state.engine
        with store.transaction(engine) as session:
            row = verify_key(session, key.strip(), now=dt.datetime.now(dt.UTC))
        if row is None:
            raise _unauthorized("the API key is not valid or has been revoked", invalid=True)
        if not row.allows(scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this API key lacks the scope {scope.value}; create one with "
                f"`ombud apikey add NAME --scope {scope.value}`",
                headers={
                    "WWW-Authenticate": (
                        f'{_REALM}, error="insufficient_scope", scope="{scope.value}"'
                    )
                },
            )
        return row

    return authenticated
