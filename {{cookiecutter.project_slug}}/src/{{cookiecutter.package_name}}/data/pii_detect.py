"""Spotting personal data in a new table (for `data init`): by column name and by values.

A column is suggested as `pii` when its name reads like a person's name, an email, a phone
number or a national identifier, or when most of its present text values look like one.
Only the kind is reported, never a value: the reason goes into a committed config comment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Column-name words (split on separators and camelCase, lower-cased), by kind.
NAME_WORDS = {
    "email": {"email", "emailaddress"},
    "phone number": {"phone", "telephone", "mobile", "cellphone", "fax", "msisdn", "tel"},
    "national id": {"ssn", "nino", "passport", "nif", "nie", "dni", "cpf", "aadhaar"},
    "name": {"surname", "forename", "firstname", "lastname", "fullname", "givenname"},
}
# Multi-word names: every word present.
NAME_PHRASES = {
    "national id": [("social", "security"), ("national", "id"), ("tax", "id")],
    "name": [("first", "name"), ("last", "name"), ("full", "name"), ("given", "name"),
             ("family", "name"), ("customer", "name"), ("client", "name"), ("person", "name")],
}  # fmt: skip
VALUE_PATTERNS = {  # in this order: an SSN also reads as a phone number
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    "national id": re.compile(r"^(\d{3}-\d{2}-\d{4}|[A-Z]{2}\d{6}[A-D])$"),
    "phone number": re.compile(r"^(?=(?:\D*\d){7,15}\D*$)\+?[\d(][\d\s().-]{5,}\d$"),
    "name": re.compile(r"^[A-Z][a-z'-]+( [A-Z][a-z'-]+){1,3}$"),
}
MIN_SHARE = 0.8  # of the sampled present values matching one pattern


def words(name: str) -> list[str]:
    """A column name's words, lower-cased: `customerEmail` and `customer_email` alike."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def personal_kind(name: str, sample: Sequence[object], distinct: int) -> str | None:
    """The kind of personal data column `name` seems to hold, or None.

    `sample` is some of its present values (text), `distinct` its number of distinct values.
    Values decide first: MIN_SHARE of them must match one pattern. A name hint alone flags
    a column only where values could not show the kind anyway (long numbers, person names,
    national ids of other countries' formats); an `email` or `phone` column whose text does
    not look like one is not flagged. Person names are recognised by value only when values
    are mostly distinct (a category spelled in capitals is not a name).
    """
    texts = [str(v).strip() for v in sample if isinstance(v, str) and v.strip()]
    for kind, pattern in VALUE_PATTERNS.items():
        if not texts:
            break
        matched = sum(1 for t in texts if pattern.match(t))
        if matched / len(texts) >= MIN_SHARE and (
            kind != "name" or distinct >= max(20, len(texts) // 2)
        ):
            return f"{kind} (by its values: {matched} of {len(texts)} sampled values look like one)"
    found = words(name)
    named = [k for k, vocabulary in NAME_WORDS.items() if vocabulary & set(found)]
    named += [k for k, v in NAME_WORDS.items() if "".join(found) in v]
    named += [
        k for k, phrases in NAME_PHRASES.items() if any(all(w in found for w in p) for p in phrases)
    ]
    if not named:
        return None
    kind = named[0]
    if texts and kind in ("email", "phone number"):
        return None  # values that would show it and do not: the name alone is too little
    return f"{kind} (by its name {name!r})"
