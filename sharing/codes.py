"""Share codes and invitation tokens: how they are made, written and stored.

A share code is 8 characters from an alphabet without look-alikes (no 0/O,
1/I/L, U/V pairs), shown as ABCD-EFGH: 30^8 ≈ 6.6e11 codes, valid for a day,
single use, and rate-limited per user and per address (sharing.limits), so
guessing one is hopeless. Only a keyed HMAC of the code is stored, so a copy
of the database does not let anyone try codes offline.

Invitation tokens are 256 random bits; their plain SHA-256 is stored.
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_.]")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_code(text: str) -> str | None:
    """What the clinician typed, as a code, or None if it cannot be one (no lookup, no hash)."""
    code = _SEPARATORS.sub("", text or "").upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def code_hash(code: str) -> str:
    key = hashlib.sha256(f"cramptrack.share-code:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
