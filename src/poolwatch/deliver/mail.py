"""Sending a report by email: the Markdown ticket as the body, the report files attached.

Only the standard library speaks to the server (smtplib over an optional STARTTLS); every
failure becomes a MailError whose one-line message says what went wrong and where.
"""

from __future__ import annotations

import contextlib
import ipaddress
import mimetypes
import os
import re
import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from pathlib import Path

from poolwatch.errors import PoolwatchError

#: Environment variables holding the SMTP credentials (never given on the command line).
USER_VARIABLE = "POOLWATCH_SMTP_USER"
PASSWORD_VARIABLE = "POOLWATCH_SMTP_PASSWORD"

#: The port of "HOST" given without one.
DEFAULT_PORT = 25

NO_TLS_FOR_CREDENTIALS = "refusing to send SMTP credentials without STARTTLS (use --smtp-starttls)"

#: The AUTH mechanisms smtplib's login() can use.
_MECHANISMS = ("CRAM-MD5", "PLAIN", "LOGIN")

_HOST = re.compile(r"[\w.-]+")
_PORT = re.compile(r"[0-9]{1,5}")
#: Every character str.splitlines() breaks at: none may reach a header.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class MailError(PoolwatchError):
    """One line saying what failed (server, address, credentials), shown to users as is."""


@dataclass(frozen=True)
class Smtp:
    """Where and how to hand a message to an SMTP server."""

    host: str
    port: int
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def endpoint(self) -> str:
        """The server as ``host:port`` (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @staticmethod
    def parse(
        text: str, *, starttls: bool = False, environ: Mapping[str, str] | None = None
    ) -> Smtp:
        """The server ``--smtp`` names, with the credentials the environment holds."""
        host, port = _endpoint(text)
        user, password = _credentials(os.environ if environ is None else environ)
        return Smtp(host, port, starttls=starttls, user=user, password=password)


def _endpoint(text: str) -> tuple[str, int]:
    """The host and port of ``HOST:PORT``, ``HOST`` or ``[IPV6]:PORT``."""
    flag = f"--smtp {text!r}"
    if text.startswith("["):
        host, port = _split_bracketed(text, flag)
    elif text.count(":") > 1:
        raise ValueError(f"{flag}: write an IPv6 address in brackets, as in [::1]:2525")
    else:
        host, colon, port_text = text.partition(":")
        port = port_text if colon else None
        if not _HOST.fullmatch(host):
            raise ValueError(f"{flag}: expected HOST, HOST:PORT or [IPV6]:PORT")
    return host, _port(port, flag)


def _split_bracketed(text: str, flag: str) -> tuple[str, str | None]:
    """The IPv6 address and the port text of ``[IPV6]`` or ``[IPV6]:PORT``."""
    host, bracket, rest = text[1:].partition("]")
    if not bracket or (rest and not rest.startswith(":")):
        raise ValueError(f"{flag}: expected [IPV6]:PORT")
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(f"{flag}: {host!r} is not an IPv6 address") from None
    return host, rest[1:] if rest else None


def _port(text: str | None, flag: str) -> int:
    """The port number ``text`` gives (the SMTP port when there is none)."""
    if text is None:
        return DEFAULT_PORT
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise ValueError(f"{flag}: port must be a number 1-65535")
    return int(text)


def _credentials(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The SMTP user and password from the environment: both or neither."""
    user = environ.get(USER_VARIABLE) or None
    password = environ.get(PASSWORD_VARIABLE) or None
    if password is not None and user is None:
        raise ValueError(f"{PASSWORD_VARIABLE} is set but {USER_VARIABLE} is not")
    if user is not None and password is None:
        raise ValueError(f"{USER_VARIABLE} is set but {PASSWORD_VARIABLE} is not")
    return user, password


def default_sender() -> str:
    """The From address when none is given: poolwatch at this machine's name."""
    return "poolwatch@" + socket.getfqdn()


def message(
    *, sender: str, to: Sequence[str], subject: str, body: str, attachments: Sequence[Path]
) -> EmailMessage:
    """The email: ``body`` as UTF-8 text, each of ``attachments`` attached with its MIME type."""
    origin = _address(sender, "sender")
    recipients = tuple(_address(each, "recipient") for each in to)
    if not recipients:
        raise ValueError("no recipient address given")
    mail = EmailMessage()
    mail["From"] = origin
    mail["To"] = recipients
    mail["Subject"] = _one_line(subject, "subject")
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=_id_domain(origin))
    mail.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    for path in attachments:
        _attach(mail, path)
    return mail


def _one_line(text: str, what: str) -> str:
    """``text`` unchanged if it holds no line break or other control character."""
    for char in text:
        if char in _LINE_BREAKS:
            raise ValueError(f"{what} {text!r} contains a line break")
        if char != "\t" and unicodedata.category(char) == "Cc":
            raise ValueError(f"{what} {text!r} contains a control character")
    return text


def _address(text: str, what: str) -> Address:
    """The single address ``text`` spells (``a@b`` or ``Name <a@b>``), or ValueError."""
    address = _single_address(_one_line(text, f"{what} address"))
    if address is None:
        raise ValueError(f"{what} address {text!r} is not a valid email address")
    return address


def _single_address(text: str) -> Address | None:
    """The one flawless address of a header value, or None."""
    try:
        header = default_policy.header_factory("To", text)
    except Exception:  # the parser fails with IndexError and others on some junk
        return None
    groups = header.groups
    if header.defects or len(groups) != 1 or groups[0].display_name is not None:
        return None
    addresses = groups[0].addresses
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        return None
    address: Address = addresses[0]
    return address


def _id_domain(origin: Address) -> str:
    """The domain part of the Message-ID: the sender's, if plain ASCII."""
    return origin.domain if origin.domain.isascii() else "poolwatch.invalid"


def _attach(mail: EmailMessage, path: Path) -> None:
    """Attach the file at ``path`` with the MIME type its name suggests."""
    kind, encoding = mimetypes.guess_type(path.name)
    if kind is None or encoding is not None:
        kind = "application/octet-stream"
    maintype, subtype = kind.split("/", 1)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot attach {path}: {error.strerror or error}") from None
    mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)


def deliver(
    *,
    smtp: Smtp,
    to: Sequence[str],
    sender: str | None,
    subject: str,
    body: str,
    attachments: Sequence[Path],
    context: ssl.SSLContext | None = None,
) -> None:
    """Build the email and hand it to the server (``context`` overrides the TLS defaults)."""
    mail = message(
        sender=sender or default_sender(),
        to=to,
        subject=subject,
        body=body,
        attachments=attachments,
    )
    send(smtp, mail, context=context)


def send(smtp: Smtp, mail: EmailMessage, *, context: ssl.SSLContext | None = None) -> None:
    """Hand ``mail`` to the server; any failure becomes a MailError."""
    if (smtp.user is not None or smtp.password is not None) and not smtp.starttls:
        raise MailError(NO_TLS_FOR_CREDENTIALS)
    client = _connect(smtp)
    try:
        _secure(client, smtp, context)
        _login(client, smtp)
        _submit(client, smtp, mail)
        with contextlib.suppress(OSError):  # the server has the message: a lost QUIT is harmless
            client.quit()
    except MailError:
        raise
    except OSError as error:  # smtplib.SMTPException and ssl.SSLError are OSErrors too
        raise MailError(_explain(error, smtp)) from error
    finally:
        client.close()


def _connect(smtp: Smtp) -> smtplib.SMTP:
    """A client connected to the server, which has greeted it."""
    # The host goes to the constructor: only then does smtplib keep it for checking the
    # server's certificate after STARTTLS (connect() alone leaves it empty).
    try:
        return smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except smtplib.SMTPServerDisconnected as error:
        if isinstance(error.__context__, TimeoutError):
            raise MailError(_no_greeting(smtp)) from error
        raise MailError(_explain(error, smtp)) from error
    except smtplib.SMTPException as error:
        raise MailError(_explain(error, smtp)) from error
    except OSError as error:
        where = smtp.endpoint
        raise MailError(f"cannot connect to SMTP server {where}: {_why(error, smtp)}") from error


def _no_greeting(smtp: Smtp) -> str:
    """Why a server that accepted the connection never said hello."""
    text = f"SMTP server {smtp.endpoint} did not greet within {smtp.timeout:g}s"
    if smtp.port == 465:
        text += " (port 465 speaks implicit TLS; use port 587 with --smtp-starttls)"
    return text


def _why(error: OSError, smtp: Smtp) -> str:
    """A connection failure in a few words."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return f"timed out after {smtp.timeout:g}s"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    return str(error.strerror or error)


def _secure(client: smtplib.SMTP, smtp: Smtp, context: ssl.SSLContext | None) -> None:
    """Say EHLO, then switch to TLS and say it again when STARTTLS is asked for."""
    client.ehlo_or_helo_if_needed()
    if not smtp.starttls:
        return
    if not client.has_extn("starttls"):
        raise MailError(f"SMTP server {smtp.endpoint} does not offer STARTTLS")
    code, reply = client.starttls(context=context or ssl.create_default_context())
    if code != 220:
        raise MailError(f"SMTP server {smtp.endpoint} refused STARTTLS: {_reply(code, reply)}")
    client.ehlo_or_helo_if_needed()


def _login(client: smtplib.SMTP, smtp: Smtp) -> None:
    """Log in when credentials are given."""
    if smtp.user is None and smtp.password is None:
        return
    if smtp.user is None or smtp.password is None:
        raise MailError(f"SMTP login needs both {USER_VARIABLE} and {PASSWORD_VARIABLE}")
    if not (smtp.user.isascii() and smtp.password.isascii()):
        raise MailError("SMTP user and password must be ASCII")
    if not client.has_extn("auth"):
        raise MailError(f"SMTP server {smtp.endpoint} does not offer AUTH")
    offered = client.esmtp_features["auth"].upper().split()
    if not any(mechanism in offered for mechanism in _MECHANISMS):
        raise MailError(
            f"SMTP server {smtp.endpoint} offers no login method poolwatch speaks"
            f" (it offers {' '.join(offered) or 'none'}; poolwatch speaks {' '.join(_MECHANISMS)})"
        )
    client.login(smtp.user, smtp.password)


def _submit(client: smtplib.SMTP, smtp: Smtp, mail: EmailMessage) -> None:
    """Send the message, failing if the server refused any recipient."""
    refused = client.send_message(mail)
    if refused:
        raise MailError(
            f"SMTP server {smtp.endpoint} refused {_refusals(refused)}"
            " (the other recipients got the message)"
        )


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    """The refused recipients with the server's reasons."""
    return ", ".join(f"{rcpt} ({_reply(*answer)})" for rcpt, answer in refused.items())


def _reply(code: int, text: bytes | str) -> str:
    """A server reply on one line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join([str(code), *text.split()])


def _explain(error: OSError, smtp: Smtp) -> str:
    """One line saying what failed in the conversation with the server."""
    if isinstance(error, smtplib.SMTPException):
        return _explain_smtp(error, smtp)
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate verification failed for SMTP server {smtp.endpoint}: "
            f"{error.verify_message}"
        )
    if isinstance(error, ssl.SSLError):
        return f"TLS with SMTP server {smtp.endpoint} failed: {error.reason or error}"
    return f"connection to SMTP server {smtp.endpoint} failed: {_why(error, smtp)}"


def _explain_smtp(error: smtplib.SMTPException, smtp: Smtp) -> str:
    """One line for an error smtplib raised."""
    where = smtp.endpoint
    if isinstance(error, smtplib.SMTPAuthenticationError):
        answer = _reply(error.smtp_code, error.smtp_error)
        return f"SMTP authentication failed for user {smtp.user!r} at {where}: {answer}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"SMTP server {where} refused {_refusals(error.recipients)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP server {where} {_refused_what(error)}: {_answer(error, smtp)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        if isinstance(error.__context__, TimeoutError):
            return f"SMTP server {where} stopped answering (timed out after {smtp.timeout:g}s)"
        return f"SMTP server {where} closed the connection unexpectedly"
    return f"SMTP with {where} failed: {' '.join(str(error).split())}"


def _refused_what(error: smtplib.SMTPResponseException) -> str:
    """What the server said no to."""
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"refused the sender {error.sender}"
    if isinstance(error, smtplib.SMTPDataError):
        return "rejected the message"
    if isinstance(error, smtplib.SMTPHeloError):
        return "refused EHLO"
    return "answered"


def _answer(error: smtplib.SMTPResponseException, smtp: Smtp) -> str:
    """The server's reply, with a hint when it wants TLS that was not asked for."""
    answer = _reply(error.smtp_code, error.smtp_error)
    if error.smtp_code == 530 and not smtp.starttls:
        answer += " (try --smtp-starttls)"
    return answer
