"""The request timeout (`serve.timeout_s`): 504 in time, and no timer left behind per request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from helpers import module

request_deadline = module("serving.http.request_deadline")


async def call(app: Any, timeout: float) -> list[dict[str, Any]]:
    """One GET through `RequestDeadline(app, timeout)`; the messages it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await request_deadline.RequestDeadline(app, timeout)(scope, receive, send)
    return sent


async def answer(send: Any, body: bytes = b"[]", pause_s: float = 0.0) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await asyncio.sleep(pause_s)
    await send({"type": "http.response.body", "body": body})


def run(coroutine: Any) -> tuple[int, Any]:
    """Run on a plain asyncio loop; the timers still live in it afterwards, and the result."""
    loop = asyncio.SelectorEventLoop()
    try:
        result = loop.run_until_complete(coroutine)
        return sum(not timer.cancelled() for timer in loop._scheduled), result
    finally:
        loop.close()


def test_answered_requests_leave_no_timer_in_the_event_loop() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await answer(send)

    async def many() -> list[list[dict[str, Any]]]:
        return await asyncio.gather(*(call(app, timeout=60) for _ in range(20)))

    live_timers, answers = run(many())
    assert [sent[0]["status"] for sent in answers] == [200] * 20
    # BentoML 1.4's TimeoutMiddleware leaves one live 60 s timer per request here: 20.
    assert live_timers == 0


def test_an_answer_not_started_in_time_is_a_504_and_its_handler_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        await answer(send)

    _, sent = run(call(slow, timeout=0.05))
    assert sent[0]["status"] == 504
    error = "Not able to process the request in 0.05 seconds"
    assert json.loads(sent[1]["body"]) == {"error": error}
    assert cancelled.is_set()


def test_an_answer_started_in_time_runs_to_its_end() -> None:
    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await answer(send, body=b'["whole"]', pause_s=0.2)

    _, sent = run(call(streaming, timeout=0.05))
    assert [message.get("status") for message in sent] == [200, None]
    assert sent[1]["body"] == b'["whole"]'


def test_a_handler_that_fails_before_answering_fails_at_once_not_after_the_timeout() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("broken handler")

    async def bounded() -> Any:
        # The timeout is 60 s: waiting for it would end in TimeoutError from wait_for instead.
        return await asyncio.wait_for(call(failing, timeout=60), 5)

    with pytest.raises(ValueError, match="broken handler"):
        run(bounded())
