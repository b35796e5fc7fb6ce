"""Reading a request body under the service's limits, before anything parses it.

`read_body` applies, in this order: the size limit to the declared `Content-Length` (413 before
a byte is read), the size limit to the bytes as they arrive (chunked bodies too: 413 as soon as
the limit is passed), a deadline for the whole body (`serve.body_timeout_s`: 408), then
`Content-Encoding`: `gzip` is decompressed with the same size limit applied to the
decompressed bytes (a zip bomb gets 413, never the memory), any other encoding gets 415.
A UTF-8 byte-order mark is dropped; bytes that are not UTF-8 get 400 naming the position.
Each refusal is a `RejectionError`: status, reason (the `model_rejected_requests_total` label) and
a short message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

UTF8_BOM = b"\xef\xbb\xbf"
GZIP_WINDOW = 16 + zlib.MAX_WBITS  # zlib's flag for a gzip header
READ_STEP = 64 * 1024


@dataclasses.dataclass(eq=False)
class RejectionError(Exception):
    """A request refused with a 4xx: what the client is told and how it is counted."""

    status: int
    reason: str
    message: str
    details: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    left_out: int = 0
    close: bool = False  # close the connection (the body was not read to its end)
    unread_body: bool = False  # the client may still be sending: drain it before answering
    retry_after_s: int | None = None

    @property
    def field(self) -> str:
        """The first offending field (`records.3.age`), or '-'."""
        if not self.details:
            return "-"
        return ".".join(str(part) for part in self.details[0].get("loc", ())) or "-"


def too_large(size: int, limit: int, what: str = "request body") -> RejectionError:
    return RejectionError(
        413,
        "body_too_large",
        f"{what} of {size} bytes or more is above the limit of {limit} bytes "
        "(serve.max_body_bytes); send fewer records per request",
        close=True,
        unread_body=True,
    )


def declared_length(headers: dict[bytes, bytes], limit: int) -> int | None:
    """The declared `Content-Length`; a `RejectionError` when it is malformed or above `limit`."""
    raw = headers.get(b"content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise RejectionError(400, "bad_header", "Content-Length must be a whole number", close=True)
    if int(raw) > limit:
        raise too_large(int(raw), limit)
    return int(raw)


async def read_body(
    receive: Receive, headers: dict[bytes, bytes], limit: int, timeout_s: float
) -> bytes:
    """The request body, decoded to plain UTF-8 JSON bytes, or a `RejectionError`."""
    declared_length(headers, limit)
    encoding = headers.get(b"content-encoding", b"identity").strip().lower()
    if encoding not in (b"identity", b"gzip"):
        raise RejectionError(
            415,
            "unsupported_encoding",
            f"Content-Encoding {encoding.decode('latin-1')!s} is not supported: "
            "send the body plain or gzip-compressed",
            close=True,
            unread_body=True,
        )
    # One deadline for the whole body: a timer per body (Python 3.11+), one task per body on
    # 3.10; not a task and a timer per message (`wait_for` on each receive cost 24 us of the
    # worker's CPU per request, 3% of it).
    timeout = getattr(asyncio, "timeout", None)
    try:
        if timeout is not None:
            async with timeout(timeout_s):
                chunks = await _whole_body(receive, limit)
        else:
            chunks = await asyncio.wait_for(_whole_body(receive, limit), timeout_s)
    except asyncio.TimeoutError:
        raise RejectionError(
            408,
            "body_timeout",
            f"the request body did not arrive within {timeout_s:g} s (serve.body_timeout_s)",
            close=True,
        ) from None
    body = b"".join(chunks)
    if encoding == b"gzip":
        body = gunzip(body, limit)
    return plain_utf8(body)


async def _whole_body(receive: Receive, limit: int) -> list[bytes]:
    """The body's chunks as they arrive, refused as soon as they pass `limit` bytes."""
    chunks: list[bytes] = []
    received = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise RejectionError(400, "disconnected", "the client disconnected", close=True)
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise too_large(received, limit)
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    return chunks


def gunzip(body: bytes, limit: int) -> bytes:
    """`body` decompressed, refusing to produce more than `limit` bytes."""
    inflater = zlib.decompressobj(GZIP_WINDOW)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise RejectionError(
            400, "bad_encoding", "the body is not valid gzip (Content-Encoding: gzip)"
        ) from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise too_large(limit + 1, limit, what="decompressed request body")
    if not inflater.eof:
        raise RejectionError(400, "bad_encoding", "the gzip body is truncated")
    return plain


def plain_utf8(body: bytes) -> bytes:
    """`body` without a UTF-8 byte-order mark; a `RejectionError` if it is not UTF-8."""
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM) :]
    if body.isascii():
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectionError(
            400,
            "bad_encoding",
            f"the body is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8",
        ) from None
    return body
