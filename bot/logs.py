"""The server's log: lines for a person (the default), or one JSON object a line for a collector
(`SMSBOT_LOG_FORMAT=json`): time, level, logger, message and the request id.

The request id follows a message: a webhook's is its MessageSid (the carrier's own id, also in its
replies' refs), the writer's the MessageSids of its batch, another request's its X-Request-Id or a
fresh one; the worker's hand-over of a message carries the MessageSid that started its flow run
(when a text did) and its own ref: "SM.../r12.3.0.ab12". Numbers are masked
where they are logged, as ever: this only shapes the line.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        found = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = REQUEST_ID.get()
        if request:
            found["request_id"] = request
        if record.exc_info:
            found["exception"] = self.formatException(record.exc_info)
        return json.dumps(found, ensure_ascii=False)


def configure(level: str, form: str) -> None:
    """The root logger at `level`, writing text lines or JSON lines (`form`: "text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if form == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
