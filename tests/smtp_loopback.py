"""A real SMTP server on 127.0.0.1 for tests of mail delivery (aiosmtpd), with scripted refusals.

Mail goes through `smtplib` and a socket exactly as in production; nothing is mocked.

    cert = make_certificate(tmp_path)                     # throwaway self-signed, for 127.0.0.1
    with SmtpLoopback(cert, username="desk", password="s3cret") as server:
        settings = SmtpSettings(host=server.host, port=server.port, ...)
        send(message, settings, context=cert.client_context())
        server.messages        # EmailMessage objects accepted, in order
        server.envelopes       # (mail_from, rcpt_tos) of each accepted message
        server.logins          # user names that authenticated
        server.refuse(451, times=2)   # the next 2 messages get '451 …' at DATA, then normal
        server.refuse_recipient("b@example.org", 550)  # RCPT TO that address: '550 …', always
        server.attempts        # every DATA the server answered, accepted or refused

`SmtpLoopback()` without a certificate speaks plain SMTP with no AUTH (a local relay). With
one, it requires STARTTLS before MAIL and offers AUTH LOGIN and PLAIN (only over TLS), which
accepts only `username`/`password`. `closed_port()` gives a port where nothing listens (a
server that is down).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate alone (hostname checked)."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """A throwaway certificate made with the `openssl` command (valid one day)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SmtpLoopback:
    """The server; see the module docstring."""

    def __init__(
        self,
        certificate: Certificate | None = None,
        *,
        username: str = "desk",
        password: str = "",
    ) -> None:
        self.host, self.port = HOST, closed_port()  # free until the server binds it
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.attempts = 0
        self._username, self._password = username, password
        self._refusals: list[int] = []
        self._refused_recipients: dict[str, int] = {}
        self._lock = threading.Lock()
        tls = (
            {"tls_context": certificate.server_context(), "require_starttls": True,
             "authenticator": self._authenticate, "auth_require_tls": True}
            if certificate
            else {}
        )  # fmt: skip
        self._controller = Controller(self, hostname=self.host, port=self.port, **tls)

    def refuse(self, code: int, *, times: int = 1) -> None:
        """Answer the next `times` messages with `code` (e.g. 451 transient, 550 permanent)."""
        with self._lock:
            self._refusals += [code] * times

    def refuse_recipient(self, address: str, code: int) -> None:
        """Answer RCPT TO `address` with `code` from now on (others are accepted)."""
        with self._lock:
            self._refused_recipients[address] = code

    def __enter__(self) -> SmtpLoopback:
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()

    # aiosmtpd calls these for each recipient and each message (the names are aiosmtpd's)
    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        with self._lock:
            code = self._refused_recipients.get(address)
        if code:
            return _reply(code)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.attempts += 1
            if self._refusals:
                return _reply(self._refusals.pop(0))
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == self._username and (
            auth_data.password.decode() == self._password
        )
        if ok:
            with self._lock:
                self.logins.append(self._username)
        return AuthResult(success=ok, handled=False)


def _reply(code: int) -> str:
    return f"{code} {'try again later' if code < 500 else 'mailbox unavailable'}"
