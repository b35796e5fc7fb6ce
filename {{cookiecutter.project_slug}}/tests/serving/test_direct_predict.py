"""Requests scored together by the request guard (`serve.direct_predict`): each gets its own."""

from __future__ import annotations

import asyncio
from typing import Any

from helpers import module

direct_predict = module("serving.http.direct_predict")


def doubling(calls: list[list[Any]]) -> Any:
    """A score function that answers 2 x each row and records the rows of every call."""

    def score(rows: list[Any]) -> list[Any]:
        calls.append(list(rows))
        return [2 * row for row in rows]

    return score


def test_requests_of_one_turn_are_scored_in_one_call_and_each_gets_its_own_answers() -> None:
    calls: list[list[Any]] = []
    batcher = direct_predict.MicroBatcher(doubling(calls), max_rows=100)

    async def scenario() -> list[list[Any]]:
        requests = [[1], [2, 3], [4], [5, 6, 7]]
        return await asyncio.gather(*(batcher.submit(rows) for rows in requests))

    assert asyncio.run(scenario()) == [[2], [4, 6], [8], [10, 12, 14]]
    assert calls == [[1, 2, 3, 4, 5, 6, 7]]


def test_a_lone_request_is_scored_without_waiting_for_others() -> None:
    calls: list[list[Any]] = []
    batcher = direct_predict.MicroBatcher(doubling(calls), max_rows=100)

    async def scenario() -> tuple[list[Any], list[Any]]:
        first = await asyncio.wait_for(batcher.submit([1]), timeout=0.5)
        second = await asyncio.wait_for(batcher.submit([2]), timeout=0.5)
        return first, second

    assert asyncio.run(scenario()) == ([2], [4])
    assert calls == [[1], [2]]


def test_a_call_gets_at_most_max_rows_and_a_larger_request_is_scored_alone() -> None:
    calls: list[list[Any]] = []
    batcher = direct_predict.MicroBatcher(doubling(calls), max_rows=4)

    async def scenario() -> list[list[Any]]:
        requests = [[1, 2], [3, 4], [5], [6, 7, 8, 9, 10, 11], [12]]
        return await asyncio.gather(*(batcher.submit(rows) for rows in requests))

    answers = asyncio.run(scenario())
    assert answers == [[2, 4], [6, 8], [10], [12, 14, 16, 18, 20, 22], [24]]
    assert calls == [[1, 2, 3, 4], [5], [6, 7, 8, 9, 10, 11], [12]]


def test_an_error_in_scoring_is_raised_in_every_request_of_that_call_only() -> None:
    def score(rows: list[Any]) -> list[Any]:
        if 0 in rows:
            raise RuntimeError("the model path broke")
        return rows

    batcher = direct_predict.MicroBatcher(score, max_rows=2)

    async def scenario() -> list[Any]:
        requests = [[0], [1], [2, 3]]  # calls [0, 1] and [2, 3]
        return await asyncio.gather(
            *(batcher.submit(rows) for rows in requests), return_exceptions=True
        )

    broken, also_broken, fine = asyncio.run(scenario())
    assert isinstance(broken, RuntimeError)
    assert isinstance(also_broken, RuntimeError)
    assert fine == [2, 3]


def test_a_request_cancelled_while_waiting_does_not_break_the_others() -> None:
    calls: list[list[Any]] = []
    batcher = direct_predict.MicroBatcher(doubling(calls), max_rows=100)

    async def scenario() -> list[Any]:
        gone = asyncio.ensure_future(batcher.submit([1]))
        kept = asyncio.ensure_future(batcher.submit([2]))
        await asyncio.sleep(0)  # both submitted, the batch not yet scored
        gone.cancel()
        return [await kept, gone.cancelled()]

    assert asyncio.run(scenario()) == [[4], True]
    assert calls == [[1, 2]]  # scored together; the cancelled request's answer is dropped
