"""X-Twilio-Signature: an HMAC of the URL Twilio called and the form it posted."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

HEADER = "X-Twilio-Signature"


class Signatures:
    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def valid(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        """True when `signature` signs `url` (exactly as the carrier called it) and `form`."""
        if not signature or not signature.isascii():  # a base64 HMAC; anything else is forged
            return False
        # The exact URL first: one HMAC. The SDK's validate() always computes two (with and without
        # the port), so it is kept for the rarer case where only the other form matches.
        expected = self._validator.compute_signature(url, dict(form))
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
        return bool(self._validator.validate(url, dict(form), signature))
