"""Prometheus metrics of our own, and the request guard (body size limit, rejection counts).

BentoML exports its request metrics at `/metrics`; these add predictions by class, the score
distribution and rejected requests by reason (names in `METRIC_NAMES`; the Grafana dashboard
in `monitoring/` uses them).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
from prometheus_client import Counter, Histogram

from ..compat import observe_histogram_many

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# BentoML serves these at /metrics (it sets up prometheus_client's multi-process mode).
PREDICTIONS = Counter(
    name="model_predictions",
    documentation="Records scored by /predict, by predicted class",
    labelnames=["label"],
)
SCORES = Histogram(
    name="model_score",
    documentation="Predicted probability of the positive class",
    buckets=[i / 20 for i in range(1, 20)],
)
REJECTED = Counter(
    name="model_rejected_requests",
    documentation="Requests answered 4xx, by reason",
    labelnames=["reason"],
)
METRIC_NAMES = ("model_predictions_total", "model_score_bucket", "model_rejected_requests_total")

# Reasons by the type of the first validation error (pydantic's error types).
REASONS = {
    "json_invalid": "malformed_json",
    "json_type": "malformed_json",
    "too_long": "too_many_records",
    "too_short": "empty_batch",
    "literal_error": "unseen_category",
    "extra_forbidden": "extra_field",
    "missing": "missing_field",
    "finite_number": "not_finite",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
}


def observe_predictions(scores: np.ndarray, labels: np.ndarray) -> None:
    """Count predictions by class and record the scores."""
    for label, count in zip(*np.unique(labels, return_counts=True), strict=True):
        PREDICTIONS.labels(label=str(label)).inc(int(count))
    observe_histogram_many(SCORES, scores)


def rejection_reason(status: int, body: bytes) -> str:
    """The reason label of a 4xx answer, from the type of its first validation error."""
    if status == 413:
        return "body_too_large"
    try:
        detail = json.loads(body)["detail"][0]
        kind = str(detail["type"])
    except (ValueError, KeyError, IndexError, TypeError):
        return {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid")
    if kind in REASONS:
        return REASONS[kind]
    return "wrong_type" if kind.endswith("_type") or kind.endswith("_parsing") else "invalid"


class BodyTooLargeError(Exception):
    """The request body grew past the limit while it was read."""


class RequestGuard:
    """ASGI middleware: refuse bodies above the limit (413); count 4xx answers by reason."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "POST" and not headers.get(b"content-type", b"").startswith(
            b"application/json"
        ):
            await self._drain(receive)
            await self._refuse(
                send,
                415,
                "unsupported_media_type",
                "send the request body as JSON with the header Content-Type: application/json",
            )
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._drain(receive)
            await self._too_large(send, int(declared))
            return
        state = {"received": 0, "status": 0, "started": False, "body": b""}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body_bytes:
                    raise BodyTooLargeError
            return message

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = int(message["status"])
            elif message["type"] == "http.response.body" and 400 <= state["status"] < 500:
                state["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    reason = rejection_reason(state["status"], state["body"])
                    REJECTED.labels(reason=reason).inc()
            await send(message)

        try:
            await self.app(scope, limited_receive, observed_send)
        except BodyTooLargeError:
            if state["started"]:
                raise
            await self._drain(receive)
            await self._too_large(send, state["received"])

    @staticmethod
    async def _drain(receive: Receive) -> None:
        """Read and discard the rest of the body (a client still sending gets its answer)."""
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    async def _too_large(self, send: Send, size: int) -> None:
        await self._refuse(
            send,
            413,
            "body_too_large",
            f"request body of {size} bytes or more is above the limit of "
            f"{self.max_body_bytes} bytes (serve.max_body_bytes); send fewer records per request",
        )

    @staticmethod
    async def _refuse(send: Send, status: int, reason: str, message: str) -> None:
        REJECTED.labels(reason=reason).inc()
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
