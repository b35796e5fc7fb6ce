"""Reading request bodies under the limits: size (declared and as it arrives), time, encoding."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterable
from typing import Any

import pytest

from helpers import module

request_body = module("serving.http.request_body")
RejectionError = request_body.RejectionError

LIMIT = 1000


def receiver(chunks: Iterable[bytes], stall_after: int | None = None) -> Any:
    """An ASGI `receive` giving `chunks`; after `stall_after` chunks it never answers."""
    pending = list(chunks)
    given = 0

    async def receive() -> dict[str, Any]:
        nonlocal given
        if stall_after is not None and given >= stall_after:
            await asyncio.sleep(3600)
        given += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    return receive


def read(chunks: list[bytes], timeout_s: float = 5.0, **headers: str) -> bytes:
    raw = {k.replace("_", "-").encode(): v.encode() for k, v in headers.items()}
    return asyncio.run(request_body.read_body(receiver(chunks), raw, LIMIT, timeout_s))


def refusal(chunks: list[bytes], **headers: str) -> Any:
    with pytest.raises(RejectionError) as caught:
        read(chunks, **headers)
    return caught.value


def test_a_plain_body_is_read_whole() -> None:
    assert read([b'{"records"', b": []}"]) == b'{"records": []}'


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    # The receiver would fail if it were called: the body is never read.
    with pytest.raises(RejectionError) as caught:
        asyncio.run(
            request_body.read_body(receiver([]), {b"content-length": b"9000000"}, LIMIT, 1.0)
        )
    assert (caught.value.status, caught.value.reason) == (413, "body_too_large")
    assert caught.value.close


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    given = []

    async def receive() -> dict[str, Any]:
        given.append(1)
        return {"type": "http.request", "body": b"x" * 400, "more_body": True}  # endless

    with pytest.raises(RejectionError) as caught:
        asyncio.run(request_body.read_body(receive, {}, LIMIT, 5.0))
    assert caught.value.status == 413
    assert len(given) == 3  # 1,200 bytes: refused at the chunk that passed 1,000


@pytest.fixture(params=["asyncio.timeout", "wait_for"])
def deadline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way the body deadline is kept: one timer (Python 3.11+), one task (3.10)."""
    if request.param == "wait_for":
        monkeypatch.delattr(asyncio, "timeout", raising=False)
    elif not hasattr(asyncio, "timeout"):
        pytest.skip("asyncio.timeout needs Python 3.11 or later")
    return request.param


def test_a_stalled_body_gets_408_within_the_body_timeout(deadline: str) -> None:
    started = time.monotonic()
    with pytest.raises(RejectionError) as caught:
        asyncio.run(request_body.read_body(receiver([b"{", b"}"], stall_after=1), {}, LIMIT, 0.3))
    assert (caught.value.status, caught.value.reason) == (408, "body_timeout")
    assert "serve.body_timeout_s" in caught.value.message
    assert time.monotonic() - started < 2


def test_the_deadline_is_for_the_whole_body_not_each_chunk(deadline: str) -> None:
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(0.1)  # each chunk in time, the body as a whole not
        return {"type": "http.request", "body": b" ", "more_body": True}

    with pytest.raises(RejectionError) as caught:
        asyncio.run(request_body.read_body(slow, {}, LIMIT, 0.35))
    assert caught.value.status == 408


def test_a_body_in_chunks_is_read_whole_within_the_deadline(deadline: str) -> None:
    assert read([b'{"rec', b'ords"', b": []}"], timeout_s=1.0) == b'{"records": []}'


def test_a_malformed_content_length_is_refused() -> None:
    assert refusal([b"{}"], content_length="12abc").status == 400


def test_gzip_is_decompressed() -> None:
    assert read([gzip.compress(b'{"records": []}')], content_encoding="gzip") == b'{"records": []}'


def test_a_zip_bomb_gets_413_not_memory() -> None:
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of spaces in about 50 KB
    limit = 100_000
    assert len(bomb) < limit
    with pytest.raises(RejectionError) as caught:
        asyncio.run(
            request_body.read_body(receiver([bomb]), {b"content-encoding": b"gzip"}, limit, 5.0)
        )
    assert (caught.value.status, caught.value.reason) == (413, "body_too_large")
    assert "decompressed" in caught.value.message


def test_a_body_that_is_not_gzip_is_refused() -> None:
    rejection = refusal([b'{"records": []}'], content_encoding="gzip")
    assert (rejection.status, rejection.reason) == (400, "bad_encoding")
    assert "gzip" in rejection.message


def test_other_encodings_get_415() -> None:
    rejection = refusal([b"{}"], content_encoding="br")
    assert (rejection.status, rejection.reason) == (415, "unsupported_encoding")


def test_a_byte_order_mark_is_dropped() -> None:
    assert read([b"\xef\xbb\xbf{}"]) == b"{}"


def test_bytes_that_are_not_utf8_get_400_naming_the_position() -> None:
    rejection = refusal([b'{"records": [{"job": "\xff"}]}'])
    assert (rejection.status, rejection.reason) == (400, "bad_encoding")
    assert "byte 22" in rejection.message
