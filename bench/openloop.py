"""Open-loop load at a fixed rate: each request is due at its own time, late or not.

Latency counts from when a request was due, not when it went out, so a stalled server cannot hide
its queue (no coordinated omission). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
import uvloop


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(
    url: str, lines: list[tuple[str, str]], rate: float, seconds: float, warmup: float = 0
) -> dict[str, float]:
    if warmup:
        skip = int(rate * warmup)
        await run(url, lines[:skip], rate, warmup)  # a cold server is not what we measure
        lines = lines[skip:]
    total = min(len(lines), int(rate * seconds))
    latencies: list[float] = []
    lags: list[float] = []  # how late the generator itself sent each request
    failures = 0
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(line: tuple[str, str], due: float) -> None:
            nonlocal failures
            signature, body = line
            lags.append(time.perf_counter() - due)
            try:
                async with session.post(
                    url,
                    data=body.encode(),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                ) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                        return
            except aiohttp.ClientError:
                failures += 1
                return
            latencies.append(time.perf_counter() - due)

        start = time.perf_counter() + 0.1
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(lines[i], due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "sent": total,
        "ok": len(latencies),
        "failures": failures,
        "achieved_rate": total / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "generator_lag_p50_ms": percentile(lags, 50) * 1000,
        "generator_lag_p99_ms": percentile(lags, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("requests")
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3, help="seconds sent first, not measured")
    args = parser.parse_args()
    lines = []
    with open(args.requests) as file:
        for line in file:
            signature, _, body = line.rstrip("\n").partition("\t")
            lines.append((signature, body))
    uvloop.install()
    print(json.dumps(asyncio.run(run(args.url, lines, args.rate, args.seconds, args.warmup))))


if __name__ == "__main__":
    main()
