"""Rendering the weekly email, and the signed links it carries.

Three Jinja2 templates per email (subject, text, html; insights/jinja2/emails/).
Jinja2 compiles each template to Python once, which makes rendering several
times cheaper than Django's engine, and the digest is rendered thousands of
times a tick. The MIME message is built straight with the stdlib email package
(DigestEmail.message), still as a Django EmailMessage so every mail backend
takes it. Unsubscribe follows RFC 8058: a List-Unsubscribe URL plus
List-Unsubscribe-Post, so mail clients can unsubscribe with one POST; the
URL's signed token identifies the person without a login, and a tampered
token is refused.
"""

import secrets
from email import charset as email_charset
from email import generator as email_generator
from email import policy as email_policy
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.utils import formatdate
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import MIMEMixin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language

from cramptrack import jinja_env

from .digest import Digest, links

SALT = "cramptrack.digest-email"
MAX_LINE = 998  # RFC 5322; a longer line needs quoted-printable, left to Django's general builder


def email_token(user_id: int) -> str:
    return signing.dumps(user_id, salt=SALT)


def user_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def unsubscribe_url(user_id: int, token: str | None = None) -> str:
    return settings.SITE_URL + reverse("email-unsubscribe", args=[token or email_token(user_id)])


def preferences_url(user_id: int, token: str | None = None) -> str:
    return settings.SITE_URL + reverse("email-preferences", args=[token or email_token(user_id)])


def digest_message(user, digest: Digest, delivery_id: int) -> "DigestEmail":
    token = email_token(user.pk)  # one signature for both links
    context = {
        "digest": digest,
        "week": digest.week,
        "links": links(),
        "unsubscribe_url": unsubscribe_url(user.pk, token),
        "preferences_url": preferences_url(user.pk, token),
        "site_name": settings.SITE_NAME,
        jinja_env.LANGUAGE: get_language(),  # for the 20 dates of an email
    }
    subject = " ".join(render_to_string("emails/digest-subject.txt", context, using="jinja2").split())
    message = DigestEmail(
        subject=subject,
        body=render_to_string("emails/digest.txt", context, using="jinja2"),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # One Message-ID per delivery row: a resend after a crash is recognisably the same email.
            "Message-ID": f"<digest-{delivery_id}-{digest.week_start:%Y%m%d}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("emails/digest.html", context, using="jinja2"), "text/html")
    return message


class _Policy(email_policy.Compat32):
    """compat32 wraps every header in an email.header.Header to fold it, the largest part of the
    MIME cost; a short ASCII line needs no folding and is written as it is."""

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii() and "\r" not in value:
            lines = f"{name}: {value}".split("\n")
            # Short lines (or an already folded value), or one long token that cannot be folded anyway.
            if all(len(line) <= 78 for line in lines) or (
                len(lines) == 1 and len(lines[0]) <= MAX_LINE and " " not in value.strip()
            ):
                return self.linesep.join(lines) + self.linesep
        return super()._fold(name, value, sanitize)


POLICY = _Policy()
# RFC 2047 "B" encoding for a non-ASCII subject: Django's choice of the shorter of Q and B
# measures every possible split, which cost more than the rest of the message.
UTF8_B = email_charset.Charset("utf-8")
UTF8_B.header_encoding = email_charset.BASE64


@lru_cache(maxsize=1024)
def encoded_subject(subject: str) -> str:
    """RFC 2047 for a non-ASCII subject, folded; the same few subjects recur all through a tick."""
    return subject if subject.isascii() else Header(subject, UTF8_B, header_name="Subject").encode()


class _Multipart(MIMEMixin, MIMEMultipart):
    """multipart/alternative with Django's as_bytes(linesep=...), which the SMTP backend calls."""

    def as_bytes(self, unixfrom=False, linesep="\n"):
        """The bytes the stdlib generator writes for this shape (headers, then each text part between
        the boundaries, line endings made linesep), in one pass: the generator costs more than
        building the message, as it copies itself per part and writes each body line on its own."""
        if unixfrom or self.preamble is not None or self.epilogue is not None:
            return super().as_bytes(unixfrom, linesep)
        policy = self.policy.clone(linesep=linesep)
        nl = linesep.encode()
        delimiter = b"--" + self.get_boundary().encode()
        out = [_headers(self, policy), nl]
        for index, part in enumerate(self.get_payload()):
            # The raw payload, as the generator writes it: utf-8 bytes held as surrogate escapes.
            body = email_generator.NLCRE.sub(linesep, part._payload).encode("ascii", "surrogateescape")
            out += [nl + delimiter if index else delimiter, nl, _headers(part, policy), nl, body]
        out += [nl, delimiter, b"--", nl]
        return b"".join(out)


def _headers(message: Message, policy) -> bytes:
    return b"".join(policy.fold_binary(name, value) for name, value in message.raw_items())


class DigestEmail(EmailMultiAlternatives):
    """A text part and one HTML alternative, utf-8, 8bit (as Django sends them), built without
    Django's general-purpose header sanitising, which a weekly email of ours does not need.
    Anything outside that shape (attachments, cc, a non-ASCII address, an over-long line) takes
    Django's own builder."""

    def message(self):
        parts = self._simple() and (_text_part(self.body, "plain"), _text_part(self.alternatives[0][0], "html"))
        if not parts or None in parts:
            return super().message()
        # A random boundary: the generator would otherwise search the whole body for a safe one.
        msg = _Multipart("alternative", boundary=f"=_{secrets.token_hex(12)}", policy=POLICY)
        msg["Subject"] = encoded_subject(self.subject)
        msg["From"] = self.extra_headers.get("From", self.from_email)
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        for name, value in self.extra_headers.items():
            if name.lower() != "from":
                msg[name] = value
        for part in parts:
            msg.attach(part)
        return msg

    def _simple(self) -> bool:
        headers = self.extra_headers.values()
        return (
            not (self.attachments or self.cc or self.bcc or self.reply_to)
            and len(self.alternatives) == 1
            and self.alternatives[0][1] == "text/html"
            and all(value.isascii() for value in (*self.to, self.from_email, *headers))
            and not any("\n" in value or "\r" in value for value in (*self.to, self.subject, *headers))
            and (self.encoding or settings.DEFAULT_CHARSET).lower().replace("_", "-") == "utf-8"
        )


def _text_part(text: str, subtype: str) -> Message | None:
    """A utf-8 text part sent as it is (7bit or 8bit); None if a line is too long for that."""
    data = text.encode()
    if max(map(len, data.split(b"\n"))) > MAX_LINE:
        return None
    part = Message(policy=POLICY)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "7bit" if text.isascii() else "8bit"
    # Raw utf-8 bytes as surrogate escapes: the generator writes them out unchanged.
    part.set_payload(data.decode("ascii", "surrogateescape"))
    return part
