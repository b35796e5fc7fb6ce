"""The request body checked against the schema, strictly, with a bounded answer when it fails.

`RequestCheck.rows(body)` gives the body's records as rows, or raises a `RejectionError` (400):
- the body must be one JSON object `{"records": [...]}`: any other top-level key, and a key
  repeated in any object, are refused (JSON parsers would keep the last silently);
- records are validated by the pydantic schema (`request_schema.record_model`);
- the answer lists at most `serve.max_error_details` problems, says how many were left out,
  shortens every echoed input or key to `ECHO_CHARS` characters, says when `null` is refused,
  and gives the column's contract (type, range or levels) as `expected`.
Bodies the fast path (`fast_decoding.RowDecoder`, msgspec) takes are checked for repeated keys
by counting the JSON members (one `:` each): a repeated key adds one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...model.features import FeatureSpec
from ...settings.params import DataConfig, ServeConfig
from .fast_decoding import RowDecoder
from .request_body import RejectionError
from .request_schema import Row, accepted_levels, describe_column, record_model, row_with_ids

ECHO_CHARS = 100

# Reasons (the `model_rejected_requests_total` label) by pydantic's error type.
REASONS = {
    "json_invalid": "malformed_json",
    "json_type": "malformed_json",
    "model_type": "malformed_json",
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


def reason_of(error_type: str) -> str:
    if error_type in REASONS:
        return REASONS[error_type]
    return "wrong_type" if error_type.endswith(("_type", "_parsing")) else "invalid"


def shorten(value: Any) -> Any:
    """`value` as echoed in an answer: strings cut to `ECHO_CHARS`, containers summarised."""
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "..."
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**ECHO_CHARS:
        return "an integer of more than 100 digits"
    return value


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return found


def parse_json(body: bytes) -> Any:
    """The body as Python values; a `RejectionError` for bad JSON or a repeated key."""
    try:
        # NaN and Infinity (not JSON, but sent by many encoders) reach the schema, which refuses
        # them naming the field.
        return json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        raise RejectionError(
            400,
            "duplicate_key",
            f"the key {shorten(exc.key)!r} appears twice in one object; send each key once",
        ) from None
    except RecursionError:
        raise RejectionError(400, "malformed_json", "the JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, too-long integers
        message = str(exc)[:200]
        raise RejectionError(
            400, "malformed_json", f"the body is not valid JSON: {message}"
        ) from None


class RequestCheck:
    """Checks request bodies for one model: fast path first, then the schema."""

    def __init__(
        self,
        data: DataConfig,
        spec: FeatureSpec,
        settings: ServeConfig,
        decoder: RowDecoder,
    ) -> None:
        record = record_model(data, spec)

        class Body(BaseModel):
            model_config = ConfigDict(extra="forbid")
            records: Annotated[
                list[record],  # type: ignore[valid-type]
                Field(min_length=1, max_length=settings.max_records),
            ]

        self._body = Body
        self._decoder = decoder if settings.fast_decoding else None
        self._max_details = settings.max_error_details
        self._names = spec.names
        self._ids = list(data.id_columns)
        self._expected = {name: describe_column(name, data.columns[name]) for name in spec.names}
        self._nullable = {name: data.columns[name].nullable for name in spec.names}
        strings = [*spec.names, *(v for n in spec.names for v in accepted_levels(data.columns[n]))]
        self._colon_in_strings = any(":" in s for s in strings)
        self._colons_per_record = len(spec.names) + sum(n.count(":") for n in spec.names)

    def rows(self, body: bytes) -> list[Row]:
        """The body's records as rows (tuples in feature order), or a `RejectionError`."""
        if self._decoder is not None:
            rows = self._decoder.decode(body)
            if rows is not None and self._no_repeated_keys(body, rows):
                return rows
        parsed = parse_json(body)
        if not isinstance(parsed, dict):
            raise RejectionError(
                400, "malformed_json", 'the body must be a JSON object: {"records": [...]}'
            )
        try:
            records = self._body.model_validate(parsed).records
        except ValidationError as exc:
            raise self.rejection(exc) from None
        if self._ids:
            return [row_with_ids(record, self._names, self._ids) for record in records]
        return [tuple(record[name] for name in self._names) for record in records]

    def _no_repeated_keys(self, body: bytes, rows: list[Row]) -> bool:
        """Whether the body has exactly the members its rows need (one `:` per member)."""
        expected = 1 + self._colons_per_record * len(rows)
        if self._colon_in_strings:
            if b"\\u" in body:  # an escaped colon would not be counted
                return False
            expected += sum(v.count(":") for row in rows for v in row if isinstance(v, str))
        return body.count(b":") == expected

    def rejection(self, exc: ValidationError) -> RejectionError:
        """A bounded 400 for the schema's errors."""
        count = exc.error_count()
        errors = exc.errors(include_url=False, include_context=False)[: self._max_details]
        details = [self._detail(error) for error in errors]
        noun = "problem" if count == 1 else "problems"
        first = details[0]
        where = ".".join(str(part) for part in first["loc"])
        message = f"{count} {noun} in the request; {where}: {first['msg']}"
        if count > len(details):
            message += f" (the first {len(details)} problems are listed)"
        return RejectionError(
            400,
            reason_of(str(errors[0]["type"])),
            message,
            details=details,
            left_out=count - len(details),
        )

    def _detail(self, error: Any) -> dict[str, Any]:
        loc = [shorten(part) for part in error["loc"]]
        column = loc[2] if len(loc) > 2 and loc[0] == "records" else None
        detail: dict[str, Any] = {
            "loc": loc,
            "type": error["type"],
            "msg": error["msg"],
            "input": shorten(error.get("input")),
        }
        if column in self._expected:
            if error.get("input", "") is None and not self._nullable[column]:
                detail["msg"] = "null is not allowed here"
            detail["expected"] = self._expected[column]
        elif error["type"] == "extra_forbidden":
            detail["msg"] = (
                "unknown key; a record has the model's features (and id columns) only"
                if len(loc) > 2
                else 'unknown key; the body is {"records": [...]} only'
            )
        return detail
