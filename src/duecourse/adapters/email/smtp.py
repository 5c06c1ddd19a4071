"""Email delivery: over SMTP, or into a local mailbox folder.

Both senders build the same message: multipart/alternative with the plain
text and the HTML, and a `Message-ID` made from the outbox id, so a retry of
the same message carries the same id and the receiving side can recognise it.
Logs name the message id only: never an address, a name or a body.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from duecourse.domain.errors import InvalidField
from duecourse.services.ports import DeliveryFailed, OutgoingMessage, Sender
from duecourse.settings import Settings

from .render import RenderedEmail

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0

# The id becomes both a header and a file name: nothing that could break out.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_TRUE = {"1", "true", "yes", "on"}


class EmailRenderer(Protocol):
    """What a sender needs from the templates: a message turned into an email."""

    def render_email(self, message: OutgoingMessage) -> RenderedEmail: ...


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to reach the mail server, read from `DUECOURSE_SMTP_URL`.

    `smtp://user:pass@host:587?starttls=1` upgrades a plain connection with
    STARTTLS; `smtps://user:pass@host:465` speaks TLS from the first byte.
    Login happens only when a user is given.
    """

    host: str
    port: int
    user: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidField(
                "DUECOURSE_SMTP_URL",
                "needs smtp:// or smtps:// and a host",
                "write it like smtp://user:password@mail.example.com:587?starttls=1",
            )
        implicit_tls = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if implicit_tls else 25)
        except ValueError:
            raise InvalidField("DUECOURSE_SMTP_URL", "has a bad port") from None
        flags = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            starttls=flags.get("starttls", ["0"])[-1].lower() in _TRUE,
        )

    def __repr__(self) -> str:
        # Holds a password: keep it out of logs and tracebacks.
        return f"SmtpServer(host={self.host!r}, port={self.port})"


def compose(
    message: OutgoingMessage, rendered: RenderedEmail, sender: str
) -> EmailMessage:
    """The email for an outbox message; fails permanently without recipients."""
    if not message.recipients:
        raise DeliveryFailed("client has no email contact", permanent=True)
    if not _SAFE_ID.fullmatch(message.id):
        raise DeliveryFailed(
            f"message id {message.id!r} cannot be a Message-ID", permanent=True
        )

    email = EmailMessage()
    email["Subject"] = rendered.subject
    email["From"] = sender
    email["To"] = ", ".join(message.recipients)
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = f"<{message.id}@duecourse>"
    email["X-Duecourse-Message"] = message.id
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email


class SmtpSender:
    """Delivers emails to a real mail server, one connection per message.

    Failures are sorted by whether a retry can help: a refused recipient or a
    5xx answer is permanent; a 4xx answer (greylisting, a full queue), a
    refused connection or a timeout is temporary. Credentials rejected by the
    server are temporary too, though answered with 535: the message is not at
    fault, and it goes out once the operator fixes the settings.
    """

    def __init__(
        self,
        server: SmtpServer,
        sender: str,
        templates: EmailRenderer,
        timeout: float = DEFAULT_TIMEOUT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._server = server
        self._sender = sender
        self._templates = templates
        self._timeout = timeout
        self._tls = tls or ssl.create_default_context()

    def deliver(self, message: OutgoingMessage) -> None:
        try:
            rendered = self._templates.render_email(message)
            refused = self._send(compose(message, rendered, self._sender), message)
        except DeliveryFailed as failure:
            _log_failure(message, failure)
            raise

        # Some recipients refused, others accepted: the client got the message.
        logger.info(
            "email delivered message_id=%s refused_recipients=%d",
            message.id,
            refused,
            extra={"message_id": message.id},
        )

    def _send(self, email: EmailMessage, message: OutgoingMessage) -> int:
        """Hand the email over; returns how many recipients the server refused."""
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise _failure(error) from None

        try:
            self._authenticate(client)
            refused = client.send_message(email, to_addrs=list(message.recipients))
        except (OSError, smtplib.SMTPException) as error:
            client.close()
            raise _failure(error) from None

        # The server has the message: a failed goodbye must not cause a resend.
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
        return len(refused)

    def _connect(self) -> smtplib.SMTP:
        server = self._server
        if server.implicit_tls:
            return smtplib.SMTP_SSL(
                server.host, server.port, timeout=self._timeout, context=self._tls
            )
        return smtplib.SMTP(server.host, server.port, timeout=self._timeout)

    def _authenticate(self, client: smtplib.SMTP) -> None:
        if self._server.starttls:
            client.starttls(context=self._tls)
        if self._server.user:
            client.login(self._server.user, self._server.password or "")


def _failure(error: Exception) -> DeliveryFailed:
    """Sort an SMTP or network error into a permanent or temporary failure.

    Reasons name codes, never the server's text: it often quotes the address.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        # Every refusal a 4xx (greylisting, mailbox busy): worth another try.
        permanent = not all(400 <= code < 500 for code in codes)
        listed = ", ".join(str(code) for code in codes)
        return DeliveryFailed(
            f"the mail server refused every recipient ({listed})", permanent
        )
    if isinstance(error, smtplib.SMTPConnectError):
        # The server turned the connection away before hearing the message.
        return DeliveryFailed(f"the mail server refused to talk ({error.smtp_code})")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return DeliveryFailed(
            f"the mail server rejected the login ({error.smtp_code}); "
            "check the user and password in DUECOURSE_SMTP_URL"
        )
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return DeliveryFailed(
            f"the mail server answered {code}", permanent=500 <= code < 600
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryFailed(
            "the mail server does not offer STARTTLS or login; check DUECOURSE_SMTP_URL"
        )
    # smtplib reports a timeout while reading as a disconnection.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return DeliveryFailed("the mail server did not answer in time")
    if isinstance(error, ssl.SSLError):
        return DeliveryFailed(f"the TLS connection to the mail server failed: {error}")
    return DeliveryFailed(
        f"could not talk to the mail server: {type(error).__name__}: {error}"
    )


class MailboxSender:
    """Writes each email as `{mailbox}/{message id}.eml`, for when no SMTP is set.

    The file appears whole or not at all (written aside, then renamed), and a
    retry of the same message replaces it: one file per message, however many
    attempts.
    """

    def __init__(self, mailbox: Path, sender: str, templates: EmailRenderer) -> None:
        self._mailbox = mailbox
        self._sender = sender
        self._templates = templates

    def deliver(self, message: OutgoingMessage) -> None:
        try:
            rendered = self._templates.render_email(message)
            self._write(message.id, compose(message, rendered, self._sender))
        except DeliveryFailed as failure:
            _log_failure(message, failure)
            raise

        logger.info(
            "email written to the mailbox message_id=%s",
            message.id,
            extra={"message_id": message.id},
        )

    def _write(self, message_id: str, email: EmailMessage) -> None:
        try:
            self._mailbox.mkdir(parents=True, exist_ok=True)
            target = self._mailbox / f"{message_id}.eml"
            _write_atomically(target, email.as_bytes(policy=SMTP_POLICY))
        except OSError as error:
            raise DeliveryFailed(
                f"could not write to the mailbox folder: {error.strerror}"
            ) from None


def _log_failure(message: OutgoingMessage, failure: DeliveryFailed) -> None:
    logger.warning(
        "email not delivered message_id=%s permanent=%s reason=%s",
        message.id,
        failure.permanent,
        failure.reason,
        extra={"message_id": message.id},
    )


def _write_atomically(target: Path, data: bytes) -> None:
    # A temporary file in the same folder, so the rename never crosses disks.
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def email_sender(settings: Settings, templates: EmailRenderer) -> Sender:
    """SMTP when `DUECOURSE_SMTP_URL` is set, otherwise the local mailbox."""
    if settings.smtp_url:
        server = SmtpServer.from_url(settings.smtp_url)
        return SmtpSender(server, settings.sender, templates)
    return MailboxSender(settings.mailbox, settings.sender, templates)
