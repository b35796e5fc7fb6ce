"""`make setup`'s first step: is the Python that uv picked one this project accepts?

Runs on the bare interpreter before `.venv` exists, so it uses the standard library only (the
package is not importable yet): `uv run --no-project python scripts/check_python.py` runs it
on the interpreter that `.python-version` (or `UV_PYTHON`) selects, the one `uv sync` uses.
It reads `requires-python` from pyproject.toml and exits 1, naming the interpreter and the
accepted range, when the interpreter is outside it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
REQUIRES_PYTHON = re.compile(r'^requires-python\s*=\s*"([^"]*)"', re.MULTILINE)
CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|<|>)\s*(\d+(?:\.\d+)*)\s*$")
COMPARE = {
    ">=": lambda left, right: left >= right,
    "<=": lambda left, right: left <= right,
    "==": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
    "<": lambda left, right: left < right,
    ">": lambda left, right: left > right,
}


class SpecifierError(ValueError):
    """requires-python is missing or uses a form this check does not read."""


def requires_python(pyproject: Path = PYPROJECT) -> str:
    """The `requires-python` specifier of `pyproject`."""
    match = REQUIRES_PYTHON.search(pyproject.read_text(encoding="utf-8"))
    if match is None:
        raise SpecifierError(f'{pyproject}: no `requires-python = "..."` line')
    return match.group(1)


def _padded(release: Sequence[int], width: int) -> tuple[int, ...]:
    return tuple(release) + (0,) * (width - len(release))


def accepts(specifier: str, version: Sequence[int]) -> bool:
    """Whether the release `version` (e.g. (3, 11, 2)) meets every clause of `specifier`.

    Clauses are `<op><release>` joined by commas, op one of >=, <=, ==, !=, <, >; releases
    compare as PEP 440 releases (missing parts are 0: `<3.13` refuses 3.13.0).
    """
    for clause in specifier.split(","):
        match = CLAUSE.match(clause)
        if match is None:
            raise SpecifierError(
                f"requires-python clause {clause.strip()!r}: expected an operator "
                "(>=, <=, ==, !=, <, >) and a release such as 3.10.13"
            )
        operator, release = match.groups()
        bound = tuple(int(part) for part in release.split("."))
        width = max(len(bound), len(version))
        if not COMPARE[operator](_padded(version, width), _padded(bound, width)):
            return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT)
    args = parser.parse_args(argv)
    version = tuple(sys.version_info[:3])
    shown = ".".join(map(str, version))
    try:
        specifier = requires_python(args.pyproject)
        accepted = accepts(specifier, version)
    except SpecifierError as error:
        print(f"check_python: {error}", file=sys.stderr)
        return 2
    if not accepted:
        print(
            f"check_python: Python {shown} ({sys.executable}) is outside the versions this "
            f"project accepts: requires-python {specifier!r} in {args.pyproject.name}. Pick "
            "one inside: `uv python pin <version>` (writes .python-version), or "
            "`UV_PYTHON=/path/to/python make setup`.",
            file=sys.stderr,
        )
        return 1
    print(f"check_python: Python {shown} ({sys.executable}) meets requires-python {specifier!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
