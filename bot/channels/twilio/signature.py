"""X-Twilio-Signature: an HMAC of the URL Twilio called and the form it posted."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from hashlib import sha1

from twilio.request_validator import RequestValidator

HEADER = "X-Twilio-Signature"


class Signatures:
    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._key = auth_token.encode()

    def valid(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        """True when `signature` signs `url` (exactly as the carrier called it) and `form`."""
        if not signature or not signature.isascii():  # a base64 HMAC; anything else is forged
            return False
        # The exact URL first: one HMAC. The SDK's validate() always computes two (with and without
        # the port), so it is kept for the rarer case where only the other form matches.
        if hmac.compare_digest(self._signed(url, form), signature.encode()):
            return True
        return bool(self._validator.validate(url, dict(form), signature))

    def _signed(self, url: str, form: Mapping[str, str]) -> bytes:
        """Twilio's scheme, as the SDK's compute_signature (a third of its cost): the URL, then
        every parameter's name and value in the order of the names, HMAC-SHA1, base64."""
        payload = url + "".join(name + form[name] for name in sorted(form))
        return base64.b64encode(hmac.new(self._key, payload.encode(), sha1).digest())
