"""A small closed-loop HTTP load generator (asyncio + aiohttp): fixed concurrency, N requests.

Usage: python loadgen.py URL BODY_FILE --concurrency 32 --requests 5000 [--warmup 200]
Prints one JSON object: requests/s, p50/p99 latency (ms), status counts, wall seconds.
Run it with the generated project's interpreter (aiohttp comes with BentoML).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import aiohttp


async def _worker(session, url, body, queue, latencies, statuses):
    while True:
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        started = time.perf_counter()
        try:
            async with session.post(
                url, data=body, headers={"content-type": "application/json"}
            ) as response:
                await response.read()
                statuses[response.status] += 1
        except aiohttp.ClientError as exc:
            statuses[type(exc).__name__] += 1
        latencies.append(time.perf_counter() - started)


async def run(url: str, body: bytes, concurrency: int, requests: int) -> dict:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    latencies: list[float] = []
    statuses: Counter = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(session, url, body, queue, latencies, statuses) for _ in range(concurrency))
        )
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    return {
        "requests": len(latencies),
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "errors": sum(v for k, v in statuses.items() if k != 200),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args()
    body = args.body.read_bytes()
    if args.warmup:
        asyncio.run(run(args.url, body, args.concurrency, args.warmup))
    print(json.dumps(asyncio.run(run(args.url, body, args.concurrency, args.requests))))


if __name__ == "__main__":
    main()
