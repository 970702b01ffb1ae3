"""The runtime of request execution, built once from the settings."""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy.orm import Session

from ombud.mail import MailTransport, transport_from_settings
from ombud.register import load
from ombud.register.model import Register
from ombud.rights.answer import send_link
from ombud.rights.execution import Runtime
from ombud.rights.models import DataRequest
from ombud.rights.outcome import send_outcome
from ombud.settings import Settings
from ombud.store.crypto import Keys


def runtime_from_settings(
    settings: Settings,
    keys: Keys,
    *,
    mail: MailTransport | None = None,
    register: Register | None = None,
) -> Runtime:
    """Runtime for the register of ``settings`` (or ``register``, the one being served);
    answers are mailed through ``mail`` (default: the transport of OMBUD_MAIL_URL).
    """
    register_path = settings.register_path.resolve()
    transport = mail if mail is not None else transport_from_settings(settings)

    def deliver(session: Session, request: DataRequest) -> None:
        send_link(
            session,
            request,
            keys=keys,
            mail=transport,
            base_url=settings.base_url,
            now=dt.datetime.now(dt.UTC),
        )

    def tell(session: Session, request: DataRequest) -> None:
        del session
        send_outcome(request, keys=keys, mail=transport, register=runtime_register)

    runtime_register = register if register is not None else load(register_path).register
    return Runtime(
        register=runtime_register,
        register_dir=register_path.parent,
        keys=keys,
        environ=dict(os.environ),
        on_package=deliver,
        on_complete=tell,
    )
