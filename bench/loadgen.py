"""A small closed-loop HTTP load generator (asyncio + aiohttp): fixed concurrency, N requests.

Usage: python loadgen.py URL BODY_FILE --concurrency 32 --requests 5000 [--warmup 200]
       [--bad-body FILE --bad-every 10]  (every 10th request sends the bad body instead)
       [--honour-retry-after]  (after an answer with Retry-After, that client waits as long,
                                 at most 5 s, before its next request, as a polite client does)
Prints one JSON object: requests/s, p50/p99 latency (ms), status counts, wall seconds, and
p50/p99/max latency per status.
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

RETRY_AFTER_CAP_S = 5.0


async def _worker(session, url, bodies, queue, latencies, statuses, by_status, polite=False):
    body, bad, every = bodies
    while True:
        try:
            index = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        started = time.perf_counter()
        sent = bad if bad is not None and index % every == 0 else body
        try:
            async with session.post(
                url, data=sent, headers={"content-type": "application/json"}
            ) as response:
                await response.read()
                status: object = response.status
                retry_after = response.headers.get("retry-after")
        except aiohttp.ClientError as exc:
            status, retry_after = type(exc).__name__, None
        statuses[status] += 1
        latencies.append(time.perf_counter() - started)
        by_status.setdefault(str(status), []).append(latencies[-1])
        if polite and retry_after is not None and retry_after.strip().isdigit():
            await asyncio.sleep(min(float(retry_after), RETRY_AFTER_CAP_S))


async def run(
    url: str,
    body: bytes,
    concurrency: int,
    requests: int,
    bad: bytes | None = None,
    every: int = 10,
    polite: bool = False,
) -> dict:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    latencies: list[float] = []
    statuses: Counter = Counter()
    by_status: dict[str, list[float]] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _worker(
                    session, url, (body, bad, every), queue, latencies, statuses, by_status, polite
                )
                for _ in range(concurrency)
            )
        )
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(q: float, values: list[float] = latencies) -> float:
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 2)

    for values in by_status.values():
        values.sort()

    return {
        "requests": len(latencies),
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "errors": sum(v for k, v in statuses.items() if k != 200),
        "latency_ms_by_status": {
            k: {"p50": pct(0.5, v), "p99": pct(0.99, v), "max": round(1000 * v[-1], 2)}
            for k, v in sorted(by_status.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--bad-body", type=Path, default=None)
    parser.add_argument("--bad-every", type=int, default=10)
    parser.add_argument("--honour-retry-after", action="store_true")
    args = parser.parse_args()
    body = args.body.read_bytes()
    bad = args.bad_body.read_bytes() if args.bad_body else None
    if args.warmup:
        asyncio.run(run(args.url, body, args.concurrency, args.warmup, bad, args.bad_every))
    result = run(
        args.url,
        body,
        args.concurrency,
        args.requests,
        bad,
        args.bad_every,
        args.honour_retry_after,
    )
    print(json.dumps(asyncio.run(result)))


if __name__ == "__main__":
    main()
