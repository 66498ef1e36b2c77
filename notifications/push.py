"""Web Push (RFC 8030) with pywebpush: one encrypted message (RFC 8291, aes128gcm) per device, signed with
the server's VAPID key (RFC 8292). A device the push service says is gone (404, 410) is removed."""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.utils import timezone
from pywebpush import WebPushException, webpush

from . import vapid
from .models import PushSubscription

log = logging.getLogger(__name__)

GONE = (404, 410)


@dataclass
class Outcome:
    delivered: int = 0
    gone: list[int] = field(default_factory=list)  # subscriptions removed
    errors: list[str] = field(default_factory=list)  # failures worth a retry


def new_session() -> requests.Session:
    """One session per batch: its connection pool keeps one TLS connection per push service open."""
    return requests.Session()


def send(devices: Iterable[PushSubscription], payload: dict, session: requests.Session, ttl: int) -> Outcome:
    """Push `payload` (JSON) to each device; removes the gone ones and stamps the delivered ones."""
    data = json.dumps(payload, separators=(",", ":"))
    outcome, delivered = Outcome(), []
    for device in devices:
        try:
            webpush(
                subscription_info={"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}},
                data=data,
                vapid_private_key=vapid.vapid(),
                vapid_claims={"sub": vapid.subject()},  # a fresh dict: webpush fills in aud and exp
                ttl=ttl,
                timeout=settings.PUSH_TIMEOUT_SECONDS,
                requests_session=session,
                headers={"Urgency": "normal"},
            )
        except WebPushException as error:
            code = error.response.status_code if error.response is not None else None
            if code in GONE:
                outcome.gone.append(device.pk)
            else:
                outcome.errors.append(f"push service answered {code}")
            continue
        except requests.RequestException as error:
            outcome.errors.append(f"{type(error).__name__}: {error}"[:500])
            continue
        delivered.append(device.pk)
    if outcome.gone:
        PushSubscription.objects.filter(pk__in=outcome.gone).delete()
        log.info("removed %s push subscription(s) the push service says are gone", len(outcome.gone))
    if delivered:
        PushSubscription.objects.filter(pk__in=delivered).update(last_sent_at=timezone.now())
    outcome.delivered = len(delivered)
    return outcome
