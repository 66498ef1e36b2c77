"""Handing emails to the SMTP server with its work overlapping ours.

A bare smtplib loop waits for the server's reply to each message's DATA before
it does anything else. Here the reply to one email is read only after the next
email has been rendered and built, so the server checks and stores email N
while this process renders N + 1. Still one email at a time on the wire, and
never more than one sent but not yet confirmed: a crash leaves the same
one-email window as a plain `sendmail` followed by the mark.

Only Django's SMTP backend exposes a connection to do this with; every other
backend (console, file, locmem) just sends each email in `send`.
"""

import contextlib
import re
from dataclasses import dataclass
from functools import lru_cache
from smtplib import SMTPDataError, SMTPRecipientsRefused, SMTPSenderRefused, quoteaddr

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

LEADING_DOT = re.compile(rb"(?m)^\.")  # smtplib's dot-stuffing (RFC 5321 4.5.2)


@dataclass
class Envelope:
    message: object  # the Django EmailMessage
    sender: str = ""
    recipients: tuple[str, ...] = ()
    raw: bytes = b""


PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def envelope_address(address: str, encoding: str) -> str:
    """Django's sanitize_address, which parses every address with the email header parser; a plain
    ASCII local@domain comes out unchanged, so it is passed as it is."""
    return address if PLAIN_ADDRESS.fullmatch(address) else _sanitized(address, encoding)


@lru_cache(maxsize=64)  # the sender: one address for every email
def _sanitized(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


def smtp_path(address: str) -> str:
    """smtplib's quoteaddr (`<local@domain>`) without parsing a plain address again, per email."""
    return f"<{address}>" if PLAIN_ADDRESS.fullmatch(address) else _quoted(address)


@lru_cache(maxsize=64)  # the sender, formatted with its name: one address for every email
def _quoted(address: str) -> str:
    return quoteaddr(address)


class Wire:
    def __init__(self, backend):
        self.backend = backend
        self.smtp_backend = isinstance(backend, SMTPBackend)
        self.in_flight = False

    def open(self) -> None:
        self.backend.open()  # a no-op while open; reopens after a failure closed it

    def prepare(self, message) -> Envelope:
        """Everything that needs no server: addresses and the message's bytes (the CPU part)."""
        if not self.smtp_backend:
            return Envelope(message)
        encoding = message.encoding or settings.DEFAULT_CHARSET
        return Envelope(
            message,
            envelope_address(message.from_email, encoding),
            tuple(envelope_address(address, encoding) for address in message.recipients()),
            message.message().as_bytes(linesep="\r\n"),
        )

    def send(self, envelope: Envelope) -> None:
        """Hand one email to the server; whether it was accepted is known from `confirm()`."""
        if not self.smtp_backend:
            envelope.message.connection = self.backend
            envelope.message.send(fail_silently=False)
            return
        self.open()
        smtp = self.backend.connection
        smtp.ehlo_or_helo_if_needed()
        # smtplib's mail() and rcpt() send these same lines, after parsing each address again.
        size = f" size={len(envelope.raw)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
        code, reply = smtp.docmd("mail", f"FROM:{smtp_path(envelope.sender)}{size}")
        if code != 250:
            raise SMTPSenderRefused(code, reply, envelope.sender)
        for recipient in envelope.recipients:
            code, reply = smtp.docmd("rcpt", f"TO:{smtp_path(recipient)}")
            if code not in (250, 251):
                raise SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.docmd("data")
        if code != 354:
            raise SMTPDataError(code, reply)
        body = LEADING_DOT.sub(b"..", envelope.raw)
        smtp.send(body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"))
        self.in_flight = True

    def confirm(self) -> None:
        """The server's reply to the last email's DATA; raises unless it was accepted."""
        if not self.in_flight:
            return
        self.in_flight = False
        code, reply = self.backend.connection.getreply()
        if code != 250:
            raise SMTPDataError(code, reply)

    def close(self) -> None:
        """End the session; after a failure it may be broken, which is fine: the next send reopens."""
        self.in_flight = False
        with contextlib.suppress(Exception):
            self.backend.close()
