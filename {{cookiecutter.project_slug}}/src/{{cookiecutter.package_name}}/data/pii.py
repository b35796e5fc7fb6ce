"""Personal data kept out of every artifact: columns with role `pii` are dropped or hashed.

`pii: drop` columns are removed before anything is written. `pii: hash` columns are replaced
by HMAC-SHA256 of the value's text (stripped), as 64 hex characters, keyed with a secret that
never lives in the repository: the environment variable `<PACKAGE>_PII_KEY` (upper case), or a
file named by `<PACKAGE>_PII_KEY_FILE`. The same key gives the same hash everywhere (prepared
data, batch scoring), so hashed columns still join and group; without the key, the values
cannot be recovered or recomputed. A command that must hash refuses to run without a key.
Missing values stay missing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .. import PACKAGE
from ..errors import PipelineError
from ..settings.params import DataConfig

MIN_KEY_BYTES = 16


def key_variables() -> tuple[str, str]:
    """The names of the key's environment variables: the key itself, and a file holding it."""
    prefix = PACKAGE.upper()
    return f"{prefix}_PII_KEY", f"{prefix}_PII_KEY_FILE"


def load_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The hashing key from the environment; raise `PipelineError` when absent or too short."""
    environ = os.environ if environ is None else environ
    name, file_name = key_variables()
    if environ.get(name):
        key, source = environ[name].encode("utf-8"), name
    elif environ.get(file_name):
        path = Path(environ[file_name])
        if not path.is_file():
            raise PipelineError(f"{file_name} names {path}, which is not a file")
        key, source = path.read_bytes().strip(), f"the file in {file_name}"
    else:
        raise PipelineError(
            f"personal-data columns with 'pii: hash' need a hashing key, and none is set: "
            f"export {name}=<secret of at least {MIN_KEY_BYTES} characters> (or {file_name}="
            "<path of a file holding it>). Keep it out of the repository (a CI secret)."
        )
    if len(key) < MIN_KEY_BYTES:
        raise PipelineError(f"the key in {source} is {len(key)} bytes; use {MIN_KEY_BYTES}+")
    return key


def key_id(key: bytes) -> str:
    """A short fingerprint of the key (itself a keyed hash): tells which key hashed the data."""
    return hmac.new(key, b"key-id", hashlib.sha256).hexdigest()[:16]


def hash_values(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 (hex) of each value's stripped text; missing values stay missing."""

    def one(value: object) -> object:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
        text = str(value).strip().encode("utf-8")
        return hmac.new(key, text, hashlib.sha256).hexdigest()

    return pd.Series([one(v) for v in values], index=values.index, dtype="string")


def protect(frame: pd.DataFrame, data: DataConfig, key: bytes | None = None) -> pd.DataFrame:
    """`frame` without its `pii: drop` columns and with its `pii: hash` columns hashed.

    The key is read from the environment (`load_key`) when a hashed column is present and no
    key is given.
    """
    pii = data.pii_columns
    frame = frame.drop(columns=[c for c, how in pii.items() if how == "drop" and c in frame])
    hashed = [c for c, how in pii.items() if how == "hash" and c in frame.columns]
    if not hashed:
        return frame
    key = key if key is not None else load_key()
    frame = frame.copy()
    for name in hashed:
        frame[name] = hash_values(frame[name], key)
    return frame
