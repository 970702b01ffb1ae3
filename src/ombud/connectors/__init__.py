"""Connectors: reaching the systems where personal data really lives (DESIGN §3 ``systems:``).

Build a :class:`SystemSpec` from the register with :func:`spec_from_register`,
then a connector with :func:`connect` (or the class for its kind). Every
connector follows the :class:`Connector` protocol; :func:`traverse` finds a
subject's rows through identity columns and references, and
:func:`erasure_order` says in which order to erase collections. Manual systems
get :class:`ManualTask` s instead. Errors form the tree in
:mod:`ombud.connectors.base`. The HTTP protocol is in docs/connectors.md.
"""

from ombud.connectors.base import (
    REDACTED,
    CollectionSpec,
    Connector,
    ConnectorError,
    Counts,
    Erasure,
    Found,
    InvalidSpec,
    Key,
    Lookup,
    Outcome,
    Reference,
    Rejected,
    SchemaMismatch,
    Strategy,
    SystemSpec,
    Timeout,
    Unreachable,
    Value,
)
from ombud.connectors.files import FilesConnector
from ombud.connectors.http import HttpConnector, sign, verify_signature
from ombud.connectors.manual import Action, ManualConnector, ManualTask, TaskStatus
from ombud.connectors.masking import hash_value, mask
from ombud.connectors.retry import RetryPolicy, retry
from ombud.connectors.spec import spec_from_register
from ombud.connectors.sql import SqlConnector
from ombud.connectors.traversal import (
    Mention,
    Traversal,
    erasure_order,
    traverse,
    written_forms,
)

__all__ = [
    "REDACTED",
    "Action",
    "CollectionSpec",
    "Connector",
    "ConnectorError",
    "Counts",
    "Erasure",
    "FilesConnector",
    "Found",
    "HttpConnector",
    "InvalidSpec",
    "Key",
    "Lookup",
    "ManualConnector",
    "ManualTask",
    "Mention",
    "Outcome",
    "Reference",
    "Rejected",
    "RetryPolicy",
    "SchemaMismatch",
    "SqlConnector",
    "Strategy",
    "SystemSpec",
    "TaskStatus",
    "Timeout",
    "Traversal",
    "Unreachable",
    "Value",
    "connect",
    "erasure_order",
    "hash_value",
    "mask",
    "retry",
    "sign",
    "spec_from_register",
    "traverse",
    "verify_signature",
    "written_forms",
]


def connect(spec: SystemSpec) -> Connector:
    """The connector for an automated system (sql, files or http); connects lazily.

    A manual system has no connector: make tasks with :class:`ManualConnector`.
    """
    if spec.connector == "sql":
        return SqlConnector(spec)
    if spec.connector == "files":
        return FilesConnector(spec)
    if spec.connector == "http":
        return HttpConnector(spec)
    raise InvalidSpec(spec.id, "a manual system is not connected: make tasks with ManualConnector")
