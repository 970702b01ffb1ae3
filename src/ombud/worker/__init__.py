"""Running request steps away from the caller: threads in the server (``inline``).

:func:`runtime_from_settings` builds what :func:`ombud.rights.execution.run`
needs from the settings, for the CLI and the server alike; :class:`InlineWorker`
runs requests on a small thread pool and, on start, resumes the ones a crash
left running (their steps are stored, so any worker can carry on).
"""

from ombud.worker.inline import InlineWorker
from ombud.worker.runtime import runtime_from_settings

__all__ = ["InlineWorker", "runtime_from_settings"]
