"""Handing a verified request to the worker when the settings say it runs by itself."""

from __future__ import annotations

from starlette.datastructures import State

from ombud.rights.models import DataRequest, RequestState
from ombud.settings import Settings


def after_verified(state: State, request: DataRequest) -> bool:
    """Queue ``request`` on the worker if its type is in OMBUD_AUTO_RUN; True if queued."""
    settings: Settings = state.settings
    worker = state.worker
    if worker is None or request.state != RequestState.VERIFIED:
        return False
    if request.type not in settings.auto_run:
        return False
    worker.submit(request.id)
    return True
