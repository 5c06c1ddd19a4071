"""Emails reach a real SMTP server, or the mailbox folder, as the client reads them."""

from __future__ import annotations

import email
import logging
import os
import shlex
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.email.smtp import (
    MailboxSender,
    SmtpSender,
    SmtpServer,
    email_sender,
)
from duecourse.domain.states import Channel
from duecourse.services.ports import DeliveryFailed, OutgoingMessage
from duecourse.settings import Settings
from tests.support import service_absent

SENDER = "Billing <billing@duecourse.localhost>"
ADDRESS = "maria@acme.example"

# aiosmtpd itself reads a property it deprecated when a login succeeds.
aiosmtpd_login_warning = pytest.mark.filterwarnings(
    "ignore:Session.login_data is deprecated:DeprecationWarning"
)


@dataclass
class Recorder:
    """An SMTP handler that keeps what arrives, or answers with a set reply."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    envelopes: list[Any] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 OK"

    def received(self) -> EmailMessage:
        (envelope,) = self.envelopes
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


StartServer = Callable[..., tuple[Recorder, int]]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    controllers: list[Controller] = []

    def start(recorder: Recorder | None = None, **options: Any) -> tuple[Recorder, int]:
        handler = recorder or Recorder()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return handler, port

    yield start
    for controller in controllers:
        controller.stop()


def overdue_message(**changes: Any) -> OutgoingMessage:
    message = OutgoingMessage(
        id="01JDUECOURSE0000000000000A",
        channel=Channel.EMAIL,
        template="overdue",
        language="pt_BR",
        recipients=(ADDRESS,),
        context={
            "client": {"name": "Acme Ltda", "external_id": "C-001"},
            "contact_name": "Maria",
            "stage": "overdue_3",
            "currency": "BRL",
            "as_of": "2026-12-03",
            "invoices": [
                {
                    "number": "INV-1",
                    "amount": "1234.50",
                    "balance": "1234.50",
                    "issue_date": "2026-11-01",
                    "due_date": "2026-11-30",
                    "days_late": 3,
                    "penalty": None,
                }
            ],
            "total_balance": "1234.50",
            "total_penalty": "0",
            "total_due": "1234.50",
            "penalty_terms": None,
            "payment_link": "https://pay.example/portal/abc",
            "link_expires_on": "2027-01-02",
        },
    )
    return replace(message, **changes)


def smtp_sender(port: int, url: str = "", **options: Any) -> SmtpSender:
    server = SmtpServer.from_url(url or f"smtp://127.0.0.1:{port}")
    return SmtpSender(server, SENDER, MessageTemplates(), timeout=5, **options)


def test_an_email_arrives_as_text_and_html_in_the_client_s_language(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    recorder, port = start_server()
    caplog.set_level(logging.INFO)

    smtp_sender(port).deliver(overdue_message())

    received = recorder.received()
    assert recorder.envelopes[0].mail_from == "billing@duecourse.localhost"
    assert recorder.envelopes[0].rcpt_tos == [ADDRESS]
    assert received.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in received.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert received["Message-ID"] == "<01JDUECOURSE0000000000000A@duecourse>"
    assert received["X-Duecourse-Message"] == "01JDUECOURSE0000000000000A"
    assert received["Subject"].startswith("Pagamento em atraso")
    assert received["Date"]
    text = received.get_body(("plain",))
    assert text is not None and "R$\xa01.234,50" in text.get_content()
    (line,) = [r.getMessage() for r in caplog.records if r.name.startswith("duec")]
    assert "01JDUECOURSE0000000000000A" in line
    assert ADDRESS not in line and "Maria" not in line


def test_a_retry_carries_the_same_message_id(start_server: StartServer) -> None:
    recorder, port = start_server()
    sender = smtp_sender(port)

    sender.deliver(overdue_message())
    sender.deliver(overdue_message(attempts=1))

    ids = {
        email.message_from_bytes(envelope.content)["Message-ID"]
        for envelope in recorder.envelopes
    }
    assert ids == {"<01JDUECOURSE0000000000000A@duecourse>"}


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "permanent"),
    [
        ("550 5.1.1 Mailbox unavailable", None, True),
        ("451 4.7.1 Greylisted, try again later", None, False),
        (None, "451 4.3.0 Queue full, try again later", False),
        (None, "554 5.6.0 Message rejected", True),
    ],
)
def test_server_refusals_are_sorted_into_permanent_and_temporary(
    start_server: StartServer,
    rcpt_reply: str | None,
    data_reply: str | None,
    permanent: bool,
) -> None:
    _, port = start_server(Recorder(rcpt_reply=rcpt_reply, data_reply=data_reply))

    with pytest.raises(DeliveryFailed) as failure:
        smtp_sender(port).deliver(overdue_message())

    assert failure.value.permanent is permanent
    assert ADDRESS not in failure.value.reason


def test_a_closed_port_is_a_temporary_failure() -> None:
    with pytest.raises(DeliveryFailed) as failure:
        smtp_sender(free_port()).deliver(overdue_message())

    assert not failure.value.permanent


def test_a_silent_server_times_out_as_a_temporary_failure() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        server = SmtpServer("127.0.0.1", silent.getsockname()[1])
        sender = SmtpSender(server, SENDER, MessageTemplates(), timeout=0.3)

        with pytest.raises(DeliveryFailed) as failure:
            sender.deliver(overdue_message())

    assert not failure.value.permanent
    assert "in time" in failure.value.reason


def test_no_recipients_fails_permanently_without_connecting() -> None:
    with pytest.raises(DeliveryFailed) as failure:
        smtp_sender(free_port()).deliver(overdue_message(recipients=()))

    assert failure.value.permanent
    assert failure.value.reason == "client has no email contact"


class Logins:
    """Accepts one user and password, and remembers who logged in."""

    def __init__(self) -> None:
        self.users: list[bytes] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        accepted = isinstance(data, LoginPassword) and data.password == b"s3cret"
        if accepted:
            self.users.append(data.login)
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=accepted, handled=False)


@aiosmtpd_login_warning
def test_login_over_plain_smtp(start_server: StartServer) -> None:
    # Without TLS: the login itself is what is checked here.
    logins = Logins()
    recorder, port = start_server(authenticator=logins, auth_require_tls=False)

    smtp_sender(port, f"smtp://billing%40acme:s3cret@127.0.0.1:{port}").deliver(
        overdue_message()
    )

    assert logins.users == [b"billing@acme"]
    assert len(recorder.envelopes) == 1


@aiosmtpd_login_warning
def test_a_rejected_login_is_a_temporary_failure(start_server: StartServer) -> None:
    _, port = start_server(authenticator=Logins(), auth_require_tls=False)
    sender = smtp_sender(port, f"smtp://billing:wrong@127.0.0.1:{port}")

    with pytest.raises(DeliveryFailed) as failure:
        sender.deliver(overdue_message())

    assert not failure.value.permanent
    assert "login" in failure.value.reason
    assert "wrong" not in failure.value.reason


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made for this test run."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        _self_signed_with_cryptography(cert, key)
    except ImportError:
        # Not in every environment: the openssl tool makes the same certificate.
        if shutil.which("openssl") is None:
            service_absent("neither the cryptography package nor openssl is available")
        _self_signed_with_openssl(cert, key)
    return Certificate(cert, key)


def _self_signed_with_cryptography(cert: Path, key: Path) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _self_signed_with_openssl(cert: Path, key: Path) -> None:
    command = shlex.split(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    )
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )


@aiosmtpd_login_warning
def test_starttls_then_login(
    start_server: StartServer, certificate: Certificate
) -> None:
    logins = Logins()
    recorder, port = start_server(
        tls_context=certificate.server(),
        require_starttls=True,
        authenticator=logins,
        auth_require_tls=True,
    )
    url = f"smtp://billing:s3cret@127.0.0.1:{port}?starttls=1"

    smtp_sender(port, url, tls=certificate.client()).deliver(overdue_message())

    assert logins.users == [b"billing"]
    assert recorder.received()["Subject"].startswith("Pagamento em atraso")


def test_smtps_speaks_tls_from_the_start(
    start_server: StartServer, certificate: Certificate
) -> None:
    recorder, port = start_server(ssl_context=certificate.server())
    url = f"smtps://127.0.0.1:{port}"

    smtp_sender(port, url, tls=certificate.client()).deliver(overdue_message())

    assert len(recorder.envelopes) == 1


def test_an_untrusted_certificate_is_a_temporary_failure(
    start_server: StartServer, certificate: Certificate
) -> None:
    _, port = start_server(ssl_context=certificate.server())

    with pytest.raises(DeliveryFailed) as failure:
        smtp_sender(port, f"smtps://127.0.0.1:{port}").deliver(overdue_message())

    assert not failure.value.permanent


def test_the_smtp_url_is_read_with_its_options() -> None:
    server = SmtpServer.from_url("smtp://us%40er:p%3Ass@mail.example:587?starttls=1")

    assert (server.host, server.port, server.user, server.password) == (
        "mail.example",
        587,
        "us@er",
        "p:ss",
    )
    assert server.starttls and not server.implicit_tls
    assert SmtpServer.from_url("smtps://mail.example").port == 465
    assert "p:ss" not in repr(server)


def test_the_mailbox_holds_one_parseable_file_per_message(tmp_path: Path) -> None:
    mailbox = tmp_path / "mailbox"
    sender = MailboxSender(mailbox, SENDER, MessageTemplates())

    sender.deliver(overdue_message())
    sender.deliver(overdue_message(attempts=1))

    assert os.listdir(mailbox) == ["01JDUECOURSE0000000000000A.eml"]
    raw = (mailbox / "01JDUECOURSE0000000000000A.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Message-ID"] == "<01JDUECOURSE0000000000000A@duecourse>"
    html = parsed.get_body(("html",))
    assert html is not None and "R$\xa01.234,50" in html.get_content()


def test_a_failed_mailbox_write_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = MailboxSender(tmp_path, SENDER, MessageTemplates())
    sender.deliver(overdue_message())
    before = (tmp_path / "01JDUECOURSE0000000000000A.eml").read_bytes()

    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(DeliveryFailed) as failure:
        sender.deliver(overdue_message(attempts=1))

    assert not failure.value.permanent
    assert os.listdir(tmp_path) == ["01JDUECOURSE0000000000000A.eml"]
    assert (tmp_path / "01JDUECOURSE0000000000000A.eml").read_bytes() == before


def test_an_unsafe_message_id_never_becomes_a_path(tmp_path: Path) -> None:
    sender = MailboxSender(tmp_path / "mailbox", SENDER, MessageTemplates())

    with pytest.raises(DeliveryFailed) as failure:
        sender.deliver(overdue_message(id="../escape"))

    assert failure.value.permanent
    assert not (tmp_path / "escape.eml").exists()


def settings(tmp_path: Path, smtp_url: str | None) -> Settings:
    return Settings(
        database_url="sqlite://",
        smtp_url=smtp_url,
        mailbox=tmp_path / "mailbox",
        sender=SENDER,
        base_url="http://127.0.0.1:8000",
        secret_key="test",
        webhook_url=None,
        run_at="06:00",
        link_days=30,
    )


def test_the_mailbox_is_used_when_no_smtp_is_configured(tmp_path: Path) -> None:
    templates = MessageTemplates()

    assert isinstance(email_sender(settings(tmp_path, None), templates), MailboxSender)
    smtp = email_sender(settings(tmp_path, "smtp://mail.example:25"), templates)
    assert isinstance(smtp, SmtpSender)
