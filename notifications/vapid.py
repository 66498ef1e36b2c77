"""The server's VAPID key pair (RFC 8292), which signs every Web Push request.

In production (an https SITE_URL without DEBUG) the private key comes from VAPID_PRIVATE_KEY, and a
missing one is an error that names it (`manage.py vapid_keys` prints a new pair). On the embedded default
and in development a key is made on first use and kept in var/vapid-private.pem, created atomically so
the web and worker processes agree on one key.
"""

import base64
import os
import tempfile
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from py_vapid import Vapid02

KEY_FILE = "vapid-private.pem"


def production() -> bool:
    return settings.SITE_URL.startswith("https://") and not settings.DEBUG


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def raw_private(key: ec.EllipticCurvePrivateKey) -> str:
    """The form VAPID_PRIVATE_KEY takes: the 32-byte private number, base64url."""
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as browsers' pushManager.subscribe() takes it: the uncompressed P-256 point, base64url."""
    return b64url(
        key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def configuration_problem() -> str | None:
    """Why VAPID is not usable in this deployment, naming the variable to set; None when it is."""
    if not production():
        return None
    if not settings.VAPID_PRIVATE_KEY:
        return (
            "VAPID_PRIVATE_KEY is not set: reminders cannot be pushed. Run `python manage.py vapid_keys` and set "
            "VAPID_PRIVATE_KEY in the environment (keep it: a new key makes every device subscribe again)."
        )
    try:
        Vapid02.from_string(settings.VAPID_PRIVATE_KEY)
    except Exception:
        return "VAPID_PRIVATE_KEY is not a P-256 private key (base64url): `python manage.py vapid_keys` prints one."
    if not settings.VAPID_SUBJECT.startswith(("mailto:", "https://")):
        return "VAPID_SUBJECT must be a mailto: or https: address where push services can reach you (RFC 8292)."
    return None


@cache
def vapid() -> Vapid02:
    """The signing key: from settings, else (never in production) the one in var/, made on first use."""
    if problem := configuration_problem():
        raise ImproperlyConfigured(problem)
    if settings.VAPID_PRIVATE_KEY:
        return Vapid02.from_string(settings.VAPID_PRIVATE_KEY)
    return Vapid02(_local_key(Path(settings.VAR_DIR) / KEY_FILE))


def _local_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        pem = new_private_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a temporary file, then linked into place: link() never replaces an existing
        # file, so when two processes race the first key wins and nobody reads a half-written one.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".vapid-", delete=False) as tmp:
            tmp.write(pem)
        try:
            os.chmod(tmp.name, 0o600)
            os.link(tmp.name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp.name)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def public_key() -> str:
    return application_server_key(vapid().private_key)


def subject() -> str:
    return settings.VAPID_SUBJECT
