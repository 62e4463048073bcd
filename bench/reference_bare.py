"""The ceiling: aiohttp that parses the form and answers constant TwiML, nothing else."""

import sys

import uvloop
from aiohttp import web

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks!</Message></Response>'


async def sms(request: web.Request) -> web.Response:
    form = await request.post()
    if "From" not in form:
        raise web.HTTPBadRequest()
    return web.Response(text=TWIML, content_type="text/xml")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application()
app.router.add_post("/twilio/sms", sms)
app.router.add_get("/healthz", healthz)

if __name__ == "__main__":
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
