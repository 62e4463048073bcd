"""Who is asking: the client's address, also behind the operator's load balancers.

`request.remote` is the last hop. Behind a trusted proxy (config `server.trusted_proxies`) it is the
proxy's, and every client would share one throttle; the client is then the rightmost address of
X-Forwarded-For that is not itself a trusted proxy (earlier entries are whatever the client wrote).
Never trusted from anyone else: a client cannot choose its own address by sending the header.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

from bot.services import SERVICES

Network = IPv4Network | IPv6Network


def client_address(request: web.Request) -> str:
    proxies = request.app[SERVICES].settings.trusted_proxies
    remote = request.remote or "unknown"
    if not proxies or not _trusted(remote, proxies):
        return remote
    hops = [hop.strip() for hop in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    for hop in reversed(hops):
        if not _address(hop):
            return remote  # a hop that is no address: the chain cannot be read past it
        if not _trusted(hop, proxies):
            return hop
    return remote


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text)
    except ValueError:
        return None


def _trusted(text: str, proxies: tuple[Network, ...]) -> bool:
    found = _address(text)
    return found is not None and any(found in network for network in proxies)
