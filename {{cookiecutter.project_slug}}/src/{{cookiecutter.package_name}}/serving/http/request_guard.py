"""The request guard: ASGI middleware in front of BentoML that answers every bad request itself.

For a POST it reads the body under the limits (`request_body.read_body`: 413, 408, 415, 400)
and, on the model's API routes, checks it against the schema (`request_check.RequestCheck`:
400 with a bounded list of problems). A refused request never reaches BentoML, which would
log it at ERROR with a traceback and answer with every problem and the whole input. Each
refusal is counted in `model_rejected_requests_total{reason}` and logged by `RejectionLog`.
An accepted body is handed on as it was read (decompressed, without a byte-order mark), with
its rows in the ASGI scope under `CHECKED_ROWS` so that the API need not decode it again.
Other 4xx that BentoML answers (404, 405) are counted too. A route in `direct` (`/predict` with
`serve.direct_predict`) is answered here from the checked rows, without BentoML's API path
(`direct_predict.py`); an error there is a 500 logged with its traceback, as BentoML would.

Overload is refused fast: at most `max_concurrency` API requests are in progress in a worker
(reading, waiting for their batch, scoring); one more is answered 503 with `Retry-After` at
once (its body read and dropped, the connection kept), instead of queueing behind the others.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any

from .prometheus import count_rejection, rejection_reason
from .rejection_log import RejectionLog
from .request_body import RejectionError, read_body
from .request_schema import Row

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Check = Callable[[bytes], list[Row]]
Answer = Callable[[list[Row]], Awaitable[bytes]]  # checked rows -> the JSON answer

log = logging.getLogger(__name__)

CHECKED_ROWS = "model.checked_rows"  # ASGI scope key: (body, rows) of a checked request
# A refused body still being sent is read and dropped for at most this long before the answer:
# closing a connection with unread bytes resets it, and the client never sees the answer.
DRAIN_S = 1.0
REQUEST_ID_CHARS = 64


class RequestGuard:
    """ASGI middleware: read and check request bodies; refuse bad ones cheaply; count 4xx."""

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        max_body_bytes: int,
        body_timeout_s: float = 5.0,
        check: Check | None = None,
        checked_paths: Collection[str] = (),
        rejection_log: RejectionLog | None = None,
        max_concurrency: int | None = None,
        direct: Mapping[str, Answer] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.check = check
        self.checked_paths = frozenset(checked_paths)
        self.rejection_log = rejection_log or RejectionLog()
        self.max_concurrency = max_concurrency
        self.direct = dict(direct or {})
        self._ids = itertools.count(1)
        self._in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"] in self.checked_paths
        if api and self.max_concurrency and self._in_progress >= self.max_concurrency:
            headers = dict(scope.get("headers") or [])
            read = await _drain(receive, DRAIN_S)
            await self.refuse(send, self._overloaded(close=not read), self._request_id(headers))
            return
        if api:
            self._in_progress += 1
        try:
            await self._guarded(scope, receive, send)
        finally:
            if api:
                self._in_progress -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            headers = dict(scope.get("headers") or [])
            try:
                body = await self._read(scope, headers, receive)
            except RejectionError as rejection:
                if rejection.unread_body:
                    await _drain(receive, min(DRAIN_S, self.body_timeout_s))
                await self.refuse(send, rejection, self._request_id(headers))
                return
            answer = self.direct.get(scope["path"])
            checked = scope.get(CHECKED_ROWS)
            if answer is not None and checked is not None:
                await _answer_directly(send, answer, checked[1])
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, _counting(send))

    def _overloaded(self, close: bool) -> RejectionError:
        """503 with Retry-After. The connection stays open when the body was read: a client
        closed on at every refusal must reconnect, and under c=256 on 2 cores about 1% of those
        reconnects waited a second (accepted p99 1.4 s; 0.2 s with the connection kept)."""
        return RejectionError(
            503,
            "overloaded",
            f"the service is at its limit of {self.max_concurrency} requests in progress "
            "(serve.max_concurrency); retry shortly",
            close=close,
            retry_after_s=1,
        )

    async def _read(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        # The media type, without parameters, in any case; every Content-Type header must say it.
        media = {
            value.split(b";")[0].strip().lower()
            for name, value in scope.get("headers") or []
            if name.lower() == b"content-type"
        }
        if media != {b"application/json"}:
            raise RejectionError(
                415,
                "unsupported_media_type",
                "send the request body as JSON with the header Content-Type: application/json",
                close=True,
                unread_body=True,
            )
        body = await read_body(receive, headers, self.max_body_bytes, self.body_timeout_s)
        if self.check is not None and scope["path"] in self.checked_paths:
            scope[CHECKED_ROWS] = (body, self.check(body))
        return body

    def _request_id(self, headers: dict[bytes, bytes]) -> str:
        given = headers.get(b"x-request-id")
        if given:
            return given[:REQUEST_ID_CHARS].decode("latin-1")
        return f"r{next(self._ids)}"

    async def refuse(self, send: Send, rejection: RejectionError, request_id: str) -> None:
        """Answer `rejection`, count it and log it."""
        count_rejection(rejection.reason)
        self.rejection_log.record(rejection, request_id)
        answer: dict[str, Any] = {"error": rejection.message}
        if rejection.details:
            answer["detail"] = rejection.details
            answer["left_out"] = rejection.left_out
        body = json.dumps(answer).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        if rejection.close:
            headers.append((b"connection", b"close"))
        if rejection.retry_after_s is not None:
            headers.append((b"retry-after", str(rejection.retry_after_s).encode()))
        await send({"type": "http.response.start", "status": rejection.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


INTERNAL_ERROR = json.dumps({"error": "internal error: see the service log"}).encode()


async def _answer_directly(send: Send, answer: Answer, rows: list[Row]) -> None:
    """200 with `answer(rows)`; a 500 logged with its traceback when that fails (a bug)."""
    try:
        status, body = 200, await answer(rows)
    except Exception:
        log.exception("scoring a request failed")
        status, body = 500, INTERNAL_ERROR
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive, seconds: float) -> bool:
    """Read and drop the rest of the request body, for at most `seconds`; True when it was
    read to its end (the connection can then serve the client's next request)."""

    async def drain() -> bool:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return False  # the client disconnected
            if not message.get("more_body", False):
                return True

    try:
        return await asyncio.wait_for(drain(), timeout=seconds)
    except asyncio.TimeoutError:
        return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then waits on the client (for its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _counting(send: Send) -> Send:
    """A `send` that counts the 4xx answers BentoML gives (404, 405, ...) by reason."""
    state: dict[str, Any] = {"status": 0, "body": b""}

    async def observed(message: Message) -> None:
        if message["type"] == "http.response.start":
            state["status"] = int(message["status"])
        elif message["type"] == "http.response.body" and 400 <= state["status"] < 500:
            state["body"] += message.get("body", b"")
            if not message.get("more_body", False):
                count_rejection(rejection_reason(state["status"], state["body"]))
        await send(message)

    return observed
