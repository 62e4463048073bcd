"""The ceiling for a tracked link: aiohttp answering every GET /l/{code} with a constant 302."""

import sys

import uvloop
from aiohttp import web


async def follow(request: web.Request) -> web.Response:
    raise web.HTTPFound("https://acme.example/sale?utm_source=sms")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application()
app.router.add_get("/l/{code}", follow)
app.router.add_get("/healthz", healthz)

if __name__ == "__main__":
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
