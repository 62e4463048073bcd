"""The ceiling for a store's events: aiohttp reading the JSON body and answering a constant 200."""

import sys

import uvloop
from aiohttp import web


async def events(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response({"stored": 1})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application(client_max_size=4 * 1024 * 1024)
app.router.add_post("/api/events", events)
app.router.add_post("/shopify/webhooks", events)
app.router.add_get("/healthz", healthz)

if __name__ == "__main__":
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
