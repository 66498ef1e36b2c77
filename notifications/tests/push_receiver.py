"""A Web Push service in the test process, so tests read exactly what a phone would.

It speaks RFC 8030 (a POST to the subscription's endpoint, 201 Created), checks the VAPID authorization
(RFC 8292: an ES256 JWT signed with the key in k=, aud the endpoint's origin, exp within 24 hours, a sub)
and decrypts the aes128gcm body (RFC 8291 over RFC 8188) with the subscription's own private key and
authentication secret. Written on `cryptography`'s primitives (ECDH P-256, HKDF-SHA256, AES-128-GCM), not
on the sender's library, so a mistake there cannot hide itself here.
"""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class Subscription:
    """What a browser holds: the endpoint, its key pair and auth secret; and how this service answers."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    answer: int = 201  # 410 once the person revoked it, 500 while the service is down...

    def to_json(self) -> dict:
        """As PushSubscription.toJSON() gives it to the app."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point(self.private_key.public_key())), "auth": b64url(self.auth_secret)},
        }


@dataclass
class Message:
    subscription: str
    payload: dict
    claims: dict
    headers: dict


class VapidError(Exception):
    pass


def verify_vapid(authorization: str, origin: str, now: float) -> tuple[dict, str]:
    """RFC 8292: `vapid t=<JWT>, k=<public key>`; returns the claims and k, or raises VapidError."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(f"scheme {scheme!r}")
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, k = parts["t"], parts["k"]
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(k))
    head, body, signature = token.split(".")
    header = json.loads(b64url_decode(head))
    if header.get("alg") != "ES256":
        raise VapidError(f"alg {header.get('alg')}")
    raw = b64url_decode(signature)
    if len(raw) != 64:
        raise VapidError("an ES256 signature is r || s, 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))  # InvalidSignature otherwise
    claims = json.loads(b64url_decode(body))
    if claims.get("aud") != origin:
        raise VapidError(f"aud {claims.get('aud')!r} is not {origin!r}")
    if not now < claims.get("exp", 0) <= now + 24 * 3600:
        raise VapidError("exp is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidError("sub is not a mailto: or https: contact")
    return claims, k


def decrypt(body: bytes, subscription: Subscription) -> bytes:
    """RFC 8291 over RFC 8188's aes128gcm: header (salt, rs, keyid = the sender's public key), one record."""
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender = body[21 : 21 + id_length]
    ciphertext = body[21 + id_length :]
    if len(ciphertext) > record_size:
        raise ValueError("a push message is one record")
    sender_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
    shared = subscription.private_key.exchange(ec.ECDH(), sender_key)
    receiver = point(subscription.private_key.public_key())
    ikm = hkdf(subscription.auth_secret, shared, b"WebPush: info\x00" + receiver + sender, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
    content = padded.rstrip(b"\x00")
    if not content.endswith(b"\x02"):  # the last record's delimiter
        raise ValueError("no last-record delimiter")
    return content[:-1]


@dataclass
class PushService:
    """The receiver: `subscribe()` is what a browser's pushManager.subscribe() returns."""

    server: ThreadingHTTPServer | None = None
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were refused (a test expects none)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    def subscribe(self) -> Subscription:
        sub_id = b64url(os.urandom(9))
        sub = Subscription(
            sub_id, f"{self.origin}/push/{sub_id}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.subscriptions[sub_id] = sub
        return sub

    def received(self, subscription: Subscription | None = None) -> list[dict]:
        return [m.payload for m in self.messages if subscription is None or m.subscription == subscription.id]

    def handle(self, path: str, headers: dict, body: bytes) -> int:
        sub_id = path.removeprefix("/push/")
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            return 404
        if sub.answer != 201:
            return sub.answer
        try:
            if "ttl" not in headers:
                raise VapidError("RFC 8030 requires a TTL header")
            if headers.get("content-encoding") != "aes128gcm":
                raise VapidError(f"content-encoding {headers.get('content-encoding')!r}")
            claims, _ = verify_vapid(headers.get("authorization", ""), self.origin, time.time())
            payload = json.loads(decrypt(body, sub))
        except Exception as error:  # anything a real push service or phone would refuse
            with self.lock:
                self.refused.append(f"{type(error).__name__}: {error}")
            return 400 if not isinstance(error, VapidError) else 403
        with self.lock:
            self.messages.append(Message(sub_id, payload, claims, headers))
        return 201


def start(service: PushService | None = None) -> PushService:
    """Serve `service` (a PushService, or a subclass that answers differently) on a free local port."""
    service = service or PushService()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real push service: one connection per batch

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            code = service.handle(urlsplit(self.path).path, headers, body)
            self.send_response(code)
            if code == 201:
                self.send_header("Location", f"{service.origin}/message/{len(service.messages)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):  # quiet
            pass

    service.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=service.server.serve_forever, daemon=True).start()
    return service
