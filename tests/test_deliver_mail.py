"""Sending reports by email, to real SMTP servers (aiosmtpd) on the loopback interface."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner

from poolwatch.cli import main
from poolwatch.deliver.mail import (
    NO_TLS_FOR_CREDENTIALS,
    MailError,
    Smtp,
    default_sender,
    deliver,
    message,
    send,
)
from poolwatch.simulate import simulate

HOST = "127.0.0.1"
SENDER = "Poolwatch <poolwatch@example.org>"
OPS = "ops@example.org"
USER = "reporter"
PASSWORD = "correct horse battery staple"
SUBJECT = "Run 42: 3 instances stalled → ticket ✓"
BODY = "# Run 42\n\nStalled instances → restarted ✓\n\n| instance | state |\n| --- | --- |\n"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\x00\xff\r\n%%EOF\n"


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope, content and how the session was secured."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: bytes | None
    tls: bool

    def parsed(self) -> EmailMessage:
        """The content parsed by the email package."""
        parsed = BytesParser(policy=default_policy).parsebytes(self.content)
        assert isinstance(parsed, EmailMessage)
        return parsed


def _login(auth_data: object) -> bytes | None:
    """The user name a session logged in with, if any."""
    return auth_data.login if isinstance(auth_data, LoginPassword) else None


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses the recipients it is told to."""

    def __init__(self, refuse: Collection[str] = ()) -> None:
        self.refuse = set(refuse)
        self.received: list[Received] = []
        self.mechanisms: list[str] = []

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept a recipient unless it is one to refuse."""
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Keep the message."""
        assert envelope.mail_from is not None
        assert isinstance(envelope.original_content, bytes)
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content,
                login=_login(session.auth_data),
                tls=session.ssl is not None,
            )
        )
        return "250 2.0.0 accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Accept USER with PASSWORD only."""
        self.mechanisms.append(mechanism)
        good = isinstance(auth_data, LoginPassword) and auth_data == (
            USER.encode(),
            PASSWORD.encode(),
        )
        # handled=False: aiosmtpd then answers 535 itself (handled=True, the default,
        # would leave the client waiting for an answer nobody sends).
        return AuthResult(success=good, handled=False, auth_data=auth_data)


class InboxWithoutAuth(Inbox):
    """An Inbox whose server leaves AUTH out of its EHLO answer."""

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Drop the AUTH line (a hook that answers EHLO must record the client's name)."""
        session.host_name = hostname
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]


class SlowInbox(Inbox):
    """An Inbox whose server takes longer over each recipient than a client waits."""

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept the recipient, a second late."""
        await asyncio.sleep(1)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


class LoopbackController(Controller):
    """aiosmtpd's Controller on a port the system picks (port=0), which it learns once bound.

    The plain Controller keeps port 0 and then fails to make its own first connection.
    """

    def _trigger_server(self) -> None:
        """Read the bound port before the first connection that starts the server up."""
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextmanager
def serving(inbox: Inbox, **options: Any) -> Iterator[int]:
    """Run an SMTP server on the loopback interface for the block, yielding its port."""
    controller = LoopbackController(inbox, hostname=HOST, port=0, **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections but never says a word."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority made for these tests."""
    return trustme.CA()


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    """The server's TLS context: a certificate for 127.0.0.1 issued by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(context)
    return context


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client TLS context that trusts the test CA (and verifies as strictly as the default)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    """A small PDF-like file with bytes that survive only a faithful transfer."""
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF)
    return path


def mail_to(*to: str, attachments: tuple[Path, ...] = ()) -> EmailMessage:
    """A report email from SENDER."""
    return message(sender=SENDER, to=to, subject=SUBJECT, body=BODY, attachments=list(attachments))


def tls_server(
    inbox: Inbox, context: ssl.SSLContext, **options: Any
) -> AbstractContextManager[int]:
    """A server that insists on STARTTLS and checks logins."""
    return serving(
        inbox,
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        **options,
    )


# Delivery -------------------------------------------------------------------------------


def test_delivers_body_and_attachment(pdf: Path) -> None:
    inbox = Inbox()
    with serving(inbox) as port:
        deliver(
            smtp=Smtp(HOST, port, timeout=5),
            to=[f"Ops Team <{OPS}>"],
            sender=SENDER,
            subject=SUBJECT,
            body=BODY,
            attachments=[pdf],
        )
    assert len(inbox.received) == 1
    got = inbox.received[0]
    assert got.mail_from == "poolwatch@example.org"
    assert got.rcpt_tos == [OPS]
    assert not got.tls
    mail = got.parsed()
    assert mail["From"] == SENDER
    assert mail["To"] == f"Ops Team <{OPS}>"
    assert mail["Subject"] == SUBJECT
    assert mail["Date"].datetime is not None
    assert mail["Message-ID"].endswith("@example.org>")
    text = mail.get_body(("plain",))
    assert text is not None
    assert text.get_content_charset() == "utf-8"
    # SMTP carries text with CRLF line ends.
    assert text.get_content().replace("\r\n", "\n") == BODY
    (attachment,) = mail.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == PDF


def test_every_recipient_gets_it() -> None:
    inbox = Inbox()
    team = [OPS, "oncall@example.org", "Lead <lead@example.net>"]
    with serving(inbox) as port:
        send(Smtp(HOST, port, timeout=5), mail_to(*team))
    assert len(inbox.received) == 1
    assert inbox.received[0].rcpt_tos == [OPS, "oncall@example.org", "lead@example.net"]


def test_default_sender_is_poolwatch_at_this_host() -> None:
    inbox = Inbox()
    with serving(inbox) as port:
        deliver(
            smtp=Smtp(HOST, port, timeout=5),
            to=[OPS],
            sender=None,
            subject="s",
            body="b",
            attachments=[],
        )
    assert default_sender() == "poolwatch@" + socket.getfqdn()
    assert inbox.received[0].mail_from == default_sender()


def test_refused_recipient_is_named_and_the_others_get_it() -> None:
    inbox = Inbox(refuse={"ghost@example.org"})
    with serving(inbox) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, timeout=5), mail_to(OPS, "ghost@example.org"))
    text = str(failure.value)
    assert "ghost@example.org (550 5.1.1 no such mailbox here)" in text
    assert f"{HOST}:{port}" in text
    assert "\n" not in text
    assert [got.rcpt_tos for got in inbox.received] == [[OPS]]


def test_all_recipients_refused() -> None:
    inbox = Inbox(refuse={"ghost@example.org", "nobody@example.org"})
    with serving(inbox) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, timeout=5), mail_to("ghost@example.org", "nobody@example.org"))
    assert "refused ghost@example.org (550" in str(failure.value)
    assert "nobody@example.org (550" in str(failure.value)
    assert inbox.received == []


# TLS and login ----------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_and_login(
    mechanism: str, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext, pdf: Path
) -> None:
    inbox = Inbox()
    others = [m for m in ("PLAIN", "LOGIN") if m != mechanism]
    with tls_server(inbox, server_tls, auth_exclude_mechanism=others) as port:
        smtp = Smtp(HOST, port, starttls=True, user=USER, password=PASSWORD, timeout=5)
        deliver(
            smtp=smtp,
            to=[OPS],
            sender=SENDER,
            subject=SUBJECT,
            body=BODY,
            attachments=[pdf],
            context=client_tls,
        )
    assert inbox.mechanisms == [mechanism]
    (got,) = inbox.received
    assert got.tls
    assert got.login == USER.encode()
    (attachment,) = got.parsed().iter_attachments()
    assert attachment.get_content() == PDF


def test_starttls_without_login(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with serving(inbox, tls_context=server_tls, require_starttls=True) as port:
        send(Smtp(HOST, port, starttls=True, timeout=5), mail_to(OPS), context=client_tls)
    (got,) = inbox.received
    assert got.tls
    assert got.login is None


def test_wrong_password(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with tls_server(inbox, server_tls) as port, pytest.raises(MailError) as failure:
        smtp = Smtp(HOST, port, starttls=True, user=USER, password="wrong", timeout=5)
        send(smtp, mail_to(OPS), context=client_tls)
    text = str(failure.value)
    assert text.startswith(f"SMTP authentication failed for user 'reporter' at {HOST}:{port}")
    assert "535" in text
    assert "wrong" not in text
    assert inbox.received == []


def test_credentials_need_starttls() -> None:
    # Nothing listens there: a connection attempt would fail differently.
    with closed_port() as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, user=USER, password=PASSWORD, timeout=5), mail_to(OPS))
    assert str(failure.value) == NO_TLS_FOR_CREDENTIALS


def test_untrusted_certificate(server_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with tls_server(inbox, server_tls) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, starttls=True, user=USER, password=PASSWORD), mail_to(OPS))
    assert f"certificate verification failed for SMTP server {HOST}:{port}" in str(failure.value)
    assert inbox.received == [] and inbox.mechanisms == []


def test_certificate_for_another_host(ca: trustme.CA, client_tls: ssl.SSLContext) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mail.example.org").configure_cert(context)
    inbox = Inbox()
    with tls_server(inbox, context) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, starttls=True, timeout=5), mail_to(OPS), context=client_tls)
    assert "certificate verification failed" in str(failure.value)
    assert "mismatch" in str(failure.value)
    assert inbox.received == []


def test_starttls_not_offered() -> None:
    inbox = Inbox()
    with serving(inbox) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, starttls=True, timeout=5), mail_to(OPS))
    assert str(failure.value) == f"SMTP server {HOST}:{port} does not offer STARTTLS"
    assert inbox.received == []


def test_server_that_requires_starttls(server_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with tls_server(inbox, server_tls) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, timeout=5), mail_to(OPS))
    text = str(failure.value)
    assert f"SMTP server {HOST}:{port} refused the sender poolwatch@example.org: 530" in text
    assert text.endswith("(try --smtp-starttls)")


def test_auth_not_offered(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = InboxWithoutAuth()
    with tls_server(inbox, server_tls) as port, pytest.raises(MailError) as failure:
        smtp = Smtp(HOST, port, starttls=True, user=USER, password=PASSWORD, timeout=5)
        send(smtp, mail_to(OPS), context=client_tls)
    assert str(failure.value) == f"SMTP server {HOST}:{port} does not offer AUTH"


def test_no_usable_auth_mechanism(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with (
        tls_server(inbox, server_tls, auth_exclude_mechanism=["PLAIN", "LOGIN"]) as port,
        pytest.raises(MailError) as failure,
    ):
        smtp = Smtp(HOST, port, starttls=True, user=USER, password=PASSWORD, timeout=5)
        send(smtp, mail_to(OPS), context=client_tls)
    assert str(failure.value) == (
        f"SMTP server {HOST}:{port} offers no login method poolwatch speaks"
        " (it offers none; poolwatch speaks CRAM-MD5 PLAIN LOGIN)"
    )


def test_non_ascii_credentials_are_refused_clearly(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    inbox = Inbox()
    with tls_server(inbox, server_tls) as port, pytest.raises(MailError, match="ASCII"):
        smtp = Smtp(HOST, port, starttls=True, user=USER, password="pässword", timeout=5)
        send(smtp, mail_to(OPS), context=client_tls)


# Unreachable servers ----------------------------------------------------------------------


def test_nothing_listening() -> None:
    started = time.monotonic()
    with closed_port() as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, timeout=2), mail_to(OPS))
    assert str(failure.value) == f"cannot connect to SMTP server {HOST}:{port}: connection refused"
    assert time.monotonic() - started < 2


def test_server_that_never_greets() -> None:
    started = time.monotonic()
    with silent_port() as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, timeout=0.3), mail_to(OPS))
    assert str(failure.value) == f"SMTP server {HOST}:{port} did not greet within 0.3s"
    assert time.monotonic() - started < 3


def test_server_that_stalls_mid_conversation() -> None:
    inbox = SlowInbox()
    started = time.monotonic()
    with serving(inbox) as port, pytest.raises(MailError) as failure:
        send(Smtp(HOST, port, timeout=0.3), mail_to(OPS))
    assert (
        str(failure.value) == f"SMTP server {HOST}:{port} stopped answering (timed out after 0.3s)"
    )
    assert time.monotonic() - started < 3


# Smtp.parse -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("mail.example.org:587", "mail.example.org", 587),
        ("mail.example.org", "mail.example.org", 25),
        ("127.0.0.1:2525", "127.0.0.1", 2525),
        ("relay_1-a:65535", "relay_1-a", 65535),
        ("[::1]:2525", "::1", 2525),
        ("[::1]", "::1", 25),
        ("[fe80::1%eth0]:1", "fe80::1%eth0", 1),
    ],
)
def test_parse(text: str, host: str, port: int) -> None:
    smtp = Smtp.parse(text, environ={})
    assert smtp == Smtp(host, port)


def test_endpoint_puts_ipv6_in_brackets() -> None:
    assert Smtp.parse("[::1]:2525", environ={}).endpoint == "[::1]:2525"
    assert Smtp.parse("mail.example.org", environ={}).endpoint == "mail.example.org:25"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("x:y", "port must be a number 1-65535"),
        ("host:0", "port must be a number 1-65535"),
        ("host:65536", "port must be a number 1-65535"),
        ("host:", "port must be a number 1-65535"),
        ("host:+25", "port must be a number 1-65535"),
        ("host: 25", "port must be a number 1-65535"),
        ("host:²", "port must be a number 1-65535"),
        ("[::1]:", "port must be a number 1-65535"),
        ("", "expected HOST, HOST:PORT or [IPV6]:PORT"),
        (":25", "expected HOST, HOST:PORT or [IPV6]:PORT"),
        ("mail host:25", "expected HOST, HOST:PORT or [IPV6]:PORT"),
        ("user@host:25", "expected HOST, HOST:PORT or [IPV6]:PORT"),
        ("::1", "write an IPv6 address in brackets, as in [::1]:2525"),
        ("::1:25", "write an IPv6 address in brackets, as in [::1]:2525"),
        ("[::1", "expected [IPV6]:PORT"),
        ("[::1]25", "expected [IPV6]:PORT"),
        ("[mail.example.org]:25", "'mail.example.org' is not an IPv6 address"),
    ],
)
def test_parse_refuses(text: str, why: str) -> None:
    with pytest.raises(ValueError) as failure:
        Smtp.parse(text, environ={})
    assert str(failure.value) == f"--smtp {text!r}: {why}"


def test_parse_takes_starttls() -> None:
    assert Smtp.parse("mail.example.org:587", starttls=True, environ={}).starttls


def test_credentials_come_from_the_environment() -> None:
    environ = {"POOLWATCH_SMTP_USER": USER, "POOLWATCH_SMTP_PASSWORD": PASSWORD}
    smtp = Smtp.parse("mail.example.org:587", starttls=True, environ=environ)
    assert (smtp.user, smtp.password) == (USER, PASSWORD)
    assert PASSWORD not in repr(smtp)


def test_credentials_default_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POOLWATCH_SMTP_USER", USER)
    monkeypatch.setenv("POOLWATCH_SMTP_PASSWORD", PASSWORD)
    smtp = Smtp.parse("mail.example.org:587")
    assert (smtp.user, smtp.password) == (USER, PASSWORD)
    monkeypatch.delenv("POOLWATCH_SMTP_USER")
    monkeypatch.delenv("POOLWATCH_SMTP_PASSWORD")
    smtp = Smtp.parse("mail.example.org:587")
    assert (smtp.user, smtp.password) == (None, None)


@pytest.mark.parametrize(
    ("environ", "why"),
    [
        (
            {"POOLWATCH_SMTP_PASSWORD": PASSWORD},
            "POOLWATCH_SMTP_PASSWORD is set but POOLWATCH_SMTP_USER is not",
        ),
        (
            {"POOLWATCH_SMTP_PASSWORD": PASSWORD, "POOLWATCH_SMTP_USER": ""},
            "POOLWATCH_SMTP_PASSWORD is set but POOLWATCH_SMTP_USER is not",
        ),
        (
            {"POOLWATCH_SMTP_USER": USER},
            "POOLWATCH_SMTP_USER is set but POOLWATCH_SMTP_PASSWORD is not",
        ),
    ],
)
def test_half_the_credentials(environ: dict[str, str], why: str) -> None:
    with pytest.raises(ValueError) as failure:
        Smtp.parse("mail.example.org:587", environ=environ)
    assert str(failure.value) == why


# message() --------------------------------------------------------------------------------


def test_message_headers_and_parts(tmp_path: Path, pdf: Path) -> None:
    names = ["summary.json", "ticket.md", "data.unknownext", "logs.tar.gz", "Bericht über.pdf"]
    for name in names:
        (tmp_path / name).write_bytes(b"{}")
    attachments = [pdf, *(tmp_path / name for name in names)]
    mail = message(sender=SENDER, to=[OPS], subject=SUBJECT, body=BODY, attachments=attachments)
    assert mail["Subject"] == SUBJECT
    assert mail["Message-ID"].startswith("<")
    assert mail.get_content_type() == "multipart/mixed"
    kinds = {part.get_filename(): part.get_content_type() for part in mail.iter_attachments()}
    assert kinds == {
        "report.pdf": "application/pdf",
        "summary.json": "application/json",
        "ticket.md": "text/markdown",
        "data.unknownext": "application/octet-stream",
        "logs.tar.gz": "application/octet-stream",
        "Bericht über.pdf": "application/pdf",
    }
    again = BytesParser(policy=default_policy).parsebytes(mail.as_bytes())
    assert isinstance(again, EmailMessage)
    body = again.get_body(("plain",))
    assert body is not None
    assert body.get_content() == BODY


@pytest.mark.parametrize(
    "field",
    ["subject", "sender", "to"],
)
@pytest.mark.parametrize(
    "injected",
    [
        "a@example.org\nBcc: x@example.net",
        "a@example.org\r\nBcc: x@example.net",
        "a@example.org\rBcc: x@example.net",
        "a@example.org\u2028Bcc: x@example.net",
        "a@example.org\x85Bcc: x@example.net",
    ],
)
def test_message_refuses_header_injection(field: str, injected: str) -> None:
    values: dict[str, Any] = {"sender": SENDER, "to": [OPS], "subject": SUBJECT}
    values[field] = [injected] if field == "to" else injected
    with pytest.raises(ValueError, match="contains a line break") as failure:
        message(body=BODY, attachments=[], **values)
    assert repr(injected) in str(failure.value)


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "a@",
        "@example.org",
        "a b@example.org",
        "a..b@example.org",
        "a@@example.org",
        "a@example.org, b@example.org",
        "a@example.org; b@example.org",
        "Name <a@example.org> junk",
        "Name <a@example.org",
        "undisclosed-recipients:;",
        "Group: a@example.org;",
        "",
        "a@example.org\x00",
    ],
)
def test_message_refuses_malformed_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="recipient address") as failure:
        message(sender=SENDER, to=[OPS, address], subject="s", body="b", attachments=[])
    assert repr(address) in str(failure.value)
    with pytest.raises(ValueError, match="sender address"):
        message(sender=address, to=[OPS], subject="s", body="b", attachments=[])


@pytest.mark.parametrize(
    "address",
    ["a@example.org", "Ops <a@example.org>", '"Ops, night" <a@example.org>', "a@[192.0.2.1]"],
)
def test_message_accepts_addresses(address: str) -> None:
    mail = message(sender=address, to=[address], subject="s", body="b", attachments=[])
    assert "a@" in mail["To"]


def test_message_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="no recipient"):
        message(sender=SENDER, to=[], subject="s", body="b", attachments=[])


def test_message_names_a_missing_attachment(tmp_path: Path) -> None:
    missing = tmp_path / "report.pdf"
    with pytest.raises(ValueError, match=r"cannot attach .*report\.pdf: No such file"):
        message(sender=SENDER, to=[OPS], subject="s", body="b", attachments=[missing])


def test_daily_mails_the_ticket_with_the_pdf_attached(tmp_path: Path) -> None:
    """``poolwatch daily --mail-to`` end to end: logs in, one mail with report.pdf out."""
    simulate("overloaded", tmp_path / "logs", instances=3, runs=2, seed=1,
             start=datetime(2026, 11, 20, 8, 0, tzinfo=UTC))  # fmt: skip
    inbox = Inbox()
    with serving(inbox) as port:
        done = CliRunner().invoke(main, [
            "daily", str(tmp_path / "logs"), "--day", "2026-11-20", "--tz", "UTC",
            "--store", str(tmp_path / "store"), "--out", str(tmp_path / "out"),
            "--mail-to", "oncall@example.com", "--mail-to", "lead@example.com",
            "--smtp", f"{HOST}:{port}", "--mail-from", "poolwatch@example.com",
        ])  # fmt: skip
    assert done.exit_code == 0, done.output + done.stderr
    assert f"mailed oncall@example.com, lead@example.com through {HOST}:{port}" in done.stdout
    (mail,) = inbox.received
    assert mail.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    parsed = BytesParser(policy=default_policy).parsebytes(mail.content)
    assert str(parsed["Subject"]).startswith("poolwatch: CRITICAL: ")
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert "## poolwatch: 🔴 CRITICAL" in body.get_content()
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    sent = (tmp_path / "out" / "2026-11-20" / "report.pdf").read_bytes()
    assert attachment.get_content() == sent


def test_mail_options_are_checked_before_any_work(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["report", str(tmp_path), "--out", str(tmp_path / "o"),
                                     "--mail-to", "a@example.com"])  # fmt: skip
    assert done.exit_code == 2 and "--mail-to needs --smtp HOST:PORT" in done.stderr
    done = CliRunner().invoke(main, ["report", str(tmp_path), "--out", str(tmp_path / "o"),
                                     "--mail-to", "a@example.com", "--smtp", "x:y"])  # fmt: skip
    assert done.exit_code == 2 and "port must be a number" in done.stderr
