"""Twilio, and any provider that speaks its API: webhook forms, signatures, TwiML, REST sending."""
