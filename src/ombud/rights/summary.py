"""A request as plain data: for `ombud request show`, the API and the console."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ombud.rights.models import DataRequest


def summarise(request: DataRequest, *, today: dt.date | None = None) -> dict[str, Any]:
    """What a handler needs to see; JSON-safe and free of personal data."""
    summary: dict[str, Any] = {
        "id": request.id,
        "type": request.type,
        "state": request.state,
        "controller": request.controller_id,
        "channel": request.channel,
        "language": request.language,
        "received_at": request.received_at.isoformat(),
        "due": request.due.isoformat(),
        "original_due": request.due_on.isoformat(),
        "extended": request.extended_due_on is not None,
        "verified": request.verification,
        "identifier_kinds": sorted({i.kind for i in request.identifiers}),
        "activities": request.activities or [],
        "register_version": request.register_version,
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "steps": [
            {
                "system": step.system_id,
                "action": step.action,
                "state": step.state,
                "attempts": step.attempts,
                "result": step.result,
                "error": step.error,
            }
            for step in request.steps
        ],
    }
    if today is not None and request.closed_at is None:
        summary["days_left"] = (request.due - today).days
    return summary
