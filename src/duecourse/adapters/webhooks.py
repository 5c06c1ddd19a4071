"""Outbound webhooks: suspend and reinstate events for the client's product.

Each delivery is signed with HMAC-SHA256 over "timestamp.body" under the
installation's secret key, so the receiver can check both origin and age.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from duecourse.services.ports import DeliveryFailed, OutgoingMessage

log = logging.getLogger(__name__)


def signature(secret_key: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret_key.encode(), signed, hashlib.sha256).hexdigest()


class WebhookSender:
    """Posts the message's context as JSON to one configured URL."""

    def __init__(self, url: str | None, secret_key: str, timeout: float = 10) -> None:
        self._url = url
        self._key = secret_key
        self._timeout = timeout

    def deliver(self, message: OutgoingMessage) -> None:
        if not self._url:
            raise DeliveryFailed(
                "no webhook URL is configured; set DUECOURSE_WEBHOOK_URL",
                permanent=True,
            )
        body = json.dumps(
            {"id": message.id, **message.context}, sort_keys=True
        ).encode()
        stamp = int(time.time())
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Duecourse-Delivery": message.id,
                "Duecourse-Timestamp": str(stamp),
                "Duecourse-Signature": f"sha256={signature(self._key, stamp, body)}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            permanent = 400 <= error.code < 500 and error.code not in (408, 429)
            raise DeliveryFailed(f"webhook answered {error.code}", permanent) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise DeliveryFailed(f"webhook unreachable: {error}") from None
        log.info("webhook delivered message_id=%s status=%d", message.id, status)
