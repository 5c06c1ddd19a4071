"""Signed, expiring links to a client's account tab.

A token is the client id and the last valid day, signed with HMAC-SHA256
under the installation's secret key. It opens only that client's page and
only until that day; changing the secret key revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, timedelta

from duecourse.domain.errors import DuecourseError


class InvalidLink(DuecourseError):
    """A link was altered, is for no client, or has expired."""


class SignedLinks:
    def __init__(self, secret_key: str, base_url: str, valid_days: int) -> None:
        self._key = secret_key.encode()
        self._base_url = base_url
        self._valid_days = valid_days

    def portal(self, client_id: int, issued_on: date) -> tuple[str, date]:
        expires = issued_on + timedelta(days=self._valid_days)
        return f"{self._base_url}/portal/{self.token(client_id, expires)}", expires

    def token(self, client_id: int, expires: date) -> str:
        payload = f"{client_id}.{expires.isoformat()}"
        return f"{payload}.{self._signature(payload)}"

    def verify(self, token: str, today: date) -> int:
        """The client id the token opens, or `InvalidLink`."""
        try:
            client, expires_text, signature = token.split(".")
            expires = date.fromisoformat(expires_text)
            client_id = int(client)
        except ValueError:
            raise InvalidLink("this link is malformed") from None
        expected = self._signature(f"{client}.{expires_text}")
        if not hmac.compare_digest(signature, expected):
            raise InvalidLink("this link was not issued by us")
        if today > expires:
            raise InvalidLink(f"this link expired on {expires.isoformat()}")
        return client_id

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")
