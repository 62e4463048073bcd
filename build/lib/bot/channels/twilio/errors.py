"""Twilio's error codes that change what smsbot does."""

OPTED_OUT_AT_CARRIER = 21610  # "Attempt to send to unsubscribed recipient"
