"""A real SMTP server (aiosmtpd) on 127.0.0.1, and a self-signed certificate for its TLS.

``smtp_server(...)`` starts one on a free port for the test and stops it
afterwards. Its handler records every accepted message as sent over the wire
and answers DATA (and RCPT) with scripted replies, so retries are tested
against real SMTP replies rather than patched exceptions.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
#: Accounts of the test server: one password needs UTF-8 and percent-encoding, one is ASCII.
ACCOUNTS = {"ombud": "hemlig-lösen:/@#?", "relay": "plain-secret"}


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: bytes | None
    tls: bool


@dataclass
class Recorder:
    """aiosmtpd handler: keeps accepted messages; replies from the scripts, then 250."""

    data_replies: deque[str] = field(default_factory=deque)
    rcpt_replies: deque[str] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0
    rcpt_commands: int = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _rcpt_options: list[str],
    ) -> str:
        self.rcpt_commands += 1
        reply = self.rcpt_replies.popleft() if self.rcpt_replies else "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply.replace("{address}", address)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.data_commands += 1
        reply = self.data_replies.popleft() if self.data_replies else "250 OK"
        if reply.startswith("250"):
            assert isinstance(envelope.original_content, bytes)
            assert envelope.mail_from is not None
            login = session.auth_data.login if session.authenticated else None
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=envelope.original_content,
                    login=login,
                    tls=session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return reply


@dataclass
class Server:
    host: str
    port: int
    recorder: Recorder


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and any(
        auth_data.login == user.encode() and auth_data.password == password.encode()
        for user, password in ACCOUNTS.items()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


StartServer = Callable[..., Server]


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 where no server listens: connections are refused."""
    return free_port()


@pytest.fixture
def accounts() -> dict[str, str]:
    """User name -> password of the accounts ``smtp_server(auth=True)`` accepts."""
    return dict(ACCOUNTS)


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Start an aiosmtpd server: ``smtp_server(data_replies=[...], auth=True, tls_context=...)``.

    ``auth`` offers AUTH (without requiring TLS for it: the test client sends
    the password over loopback); other keywords go to aiosmtpd's Controller.
    """
    controllers: list[Controller] = []

    def start(
        *,
        data_replies: Sequence[str] = (),
        rcpt_replies: Sequence[str] = (),
        auth: bool = False,
        **kwargs: Any,
    ) -> Server:
        recorder = Recorder(data_replies=deque(data_replies), rcpt_replies=deque(rcpt_replies))
        if auth:
            # auth_required stays False: together with auth_require_tls=False,
            # aiosmtpd would warn. Tests assert the login the server recorded.
            kwargs.update(authenticator=_authenticate, auth_require_tls=False)
        port = free_port()
        controller = Controller(recorder, hostname=HOST, port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return Server(HOST, port, recorder)

    yield start
    for controller in controllers:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, checking the host name as in production."""
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ombud test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)
