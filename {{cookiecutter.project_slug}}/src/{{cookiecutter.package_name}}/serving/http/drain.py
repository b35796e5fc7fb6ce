"""A clean drain on SIGTERM: ASGI middleware that delays the HTTP server's shutdown by `drain_s`.

Uvicorn (which BentoML's worker runs) shuts down on SIGTERM at once: it closes the listening
socket and every idle keep-alive connection, so a request a client had just sent on one is
reset. With this middleware the worker's SIGTERM first starts a drain of `drain_s` seconds:
- `/readyz` answers 503 at once, so a load balancer stops sending;
- requests keep being served, in flight or new, and each answer says `Connection: close`, so
  a kept-alive client closes its connection after the answer instead of reusing it;
then uvicorn's own shutdown runs (the requests still in progress finish; idle connections are
closed). The handler is installed when the server starts the app (ASGI lifespan), only in the
main thread of a process whose SIGTERM handler is a server's (not under a test client).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

READY_PATH = "/readyz"
log = logging.getLogger(__name__)


class Drain:
    """ASGI middleware: on SIGTERM, answer /readyz 503 and close connections for `drain_s`."""

    def __init__(self, app: Callable[..., Awaitable[None]], drain_s: float) -> None:
        self.app = app
        self.drain_s = drain_s
        self.draining = False
        self._installed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self.install(asyncio.get_running_loop())
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http" or not self.draining:
            await self.app(scope, receive, send)
            return
        if scope["path"] == READY_PATH:
            await _answer(send, 503, b"draining: the service is shutting down\n")
            return
        await self.app(scope, receive, _closing(send))

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take over SIGTERM from the server: drain first, then call its handler."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            return
        server_handler = signal.getsignal(signal.SIGTERM)
        if not callable(server_handler):  # no server handles SIGTERM here: nothing to delay
            return
        self._installed = True

        def shut_down(signum: int) -> None:
            log.info("drained for %s s: shutting down", self.drain_s)
            server_handler(signum, None)

        def begin(signum: int) -> None:
            log.info("SIGTERM: draining for %s s (/readyz answers 503)", self.drain_s)
            loop.call_later(self.drain_s, shut_down, signum)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            # A signal handler only sets a flag and wakes the loop (no logging, no locks).
            if self.draining:  # the arbiter forwards the signal the process group got too
                return
            self.draining = True
            loop.call_soon_threadsafe(begin, signum)

        signal.signal(signal.SIGTERM, on_sigterm)


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _closing(send: Send) -> Send:
    """A `send` that adds `Connection: close` to the answer."""

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() != b"connection"
            ]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return closing
