"""The bot a user writes from Twilio's tutorial: Flask, RequestValidator, MessagingResponse, SQLite.

Run under gunicorn (see bench/webhook.py). It validates the signature, stores the message and
answers JOIN/STOP/HELP with a fixed reply: far less than smsbot does.
"""

import os
import sqlite3
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)
DB = os.environ["TUTORIAL_DB"]
PUBLIC_URL = os.environ["TUTORIAL_PUBLIC_URL"]
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])


def db() -> sqlite3.Connection:
    conn = sqlite3.connect(DB, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS messages (sid TEXT PRIMARY KEY, sender TEXT, body TEXT)")
    return conn


def validate_twilio_request(f: Any) -> Any:
    @wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        url = PUBLIC_URL + request.full_path.rstrip("?")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        return f(*args, **kwargs)

    return decorated


@app.post("/twilio/sms")
@validate_twilio_request
def sms() -> Response:
    body = request.form.get("Body", "").strip().upper()
    with db() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO messages VALUES (?, ?, ?)",
            (request.form["MessageSid"], request.form["From"], request.form.get("Body", "")),
        )
    resp = MessagingResponse()
    if body == "JOIN":
        resp.message("Thanks for joining! Reply STOP to opt out.")
    elif body == "HELP":
        resp.message("Help: help@example.com. Reply STOP to opt out.")
    return Response(str(resp), mimetype="text/xml")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
