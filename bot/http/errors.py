"""The carrier never sees a 500: an unexpected failure becomes a 503 it can fail over on; a body
that cannot be read (corrupt encoding) is the caller's 400, and a client that hangs up is no error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from bot import metrics
from bot.services import Services

log = logging.getLogger(__name__)
T = TypeVar("T")
_CALLERS_FAULTS = (HttpProcessingError, RequestPayloadError, ConnectionResetError)


class CallersFaults(logging.Filter):
    """aiohttp logs a request it cannot parse or decode (a corrupt gzip body, a bad header) at ERROR
    with a traceback, after answering it 400: the caller's fault, not ours. Anyone could fill the
    error log that way, so such records are kept at INFO without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, _CALLERS_FAULTS) or isinstance(
            getattr(error, "__cause__", None), _CALLERS_FAULTS
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.msg}: {type(error).__name__} (the caller's)"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_callers_faults() -> None:
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, CallersFaults) for f in server.filters):
        server.addFilter(CallersFaults())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def no_500(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except RequestPayloadError as exc:  # a body that cannot be read as sent (a corrupt gzip, say)
        reason = " ".join(str(exc).split())
        refused = web.Response(status=400, text=f"the request body could not be read: {reason}\n")
        refused.force_close()  # the rest of the body cannot be read either: no keep-alive
        return refused
    except ConnectionResetError:  # the client went away mid-request: nothing of ours failed
        log.info("client went away during %s %s", request.method, request.path)
        gone = web.Response(status=400, text="connection reset\n")
        gone.force_close()
        return gone
    except Exception as exc:
        log.exception("unexpected error on %s %s", request.method, request.path)
        metrics.count_backend_error(exc)
        # 503 tells Twilio to try the fallback URL; nothing acknowledged was lost, since a 200 is
        # only sent after the commit.
        return web.Response(
            status=503, text="temporarily unable to handle this message\n", headers={"Retry-After": "1"}
        )


async def within(services: Services, work: Awaitable[T], limit: float | None = None) -> T:
    """`work`, or a 503 before the caller gives up (Twilio waits 15 s, then fails over; a caller
    that waits less passes its own `limit`)."""
    seconds = min(services.settings.answer_within, limit or services.settings.answer_within)
    try:
        async with asyncio.timeout(seconds):  # no task of its own, unlike wait_for
            return await work
    except TimeoutError:
        raise busy(services) from None


def busy(services: Services) -> web.HTTPServiceUnavailable:
    """The 503 for an answer that did not come within `answer_within`: the caller retries."""
    log.warning(
        "no answer within %.0fs (database busy?): 503, the caller retries", services.settings.answer_within
    )
    return web.HTTPServiceUnavailable(text="busy; try again\n", headers={"Retry-After": "1"})
