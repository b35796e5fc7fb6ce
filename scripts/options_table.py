"""Render the template's options (cookiecutter.json) as the Markdown page docs/options.md.

    uv run python scripts/options_table.py            # print the page
    uv run python scripts/options_table.py --write    # rewrite docs/options.md
    uv run python scripts/options_table.py --check    # exit 1 if docs/options.md is stale

The page lists every option with its default (derived defaults rendered as cookiecutter renders
them with no input), its choices and the help text of ``__prompts__``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
CONFIG_FILE = TEMPLATE_DIR / "cookiecutter.json"
PAGE = TEMPLATE_DIR / "docs" / "options.md"

HEADER = """\
# Template options

<!-- Generated from cookiecutter.json by scripts/options_table.py: do not edit by hand.
     Regenerate with `uv run python scripts/options_table.py --write`. -->

Every option can be given on the command line, e.g.
`cookiecutter <template> --no-input dvc_remote=s3 dvc_remote_url=s3://bucket/model`.
Answers are checked before anything is generated (`hooks/pre_gen_project.py`).

| Option | Default | Choices | Help |
|---|---|---|---|
"""

VARIABLE_RE = re.compile(r"cookiecutter\.(\w+)")


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    """Inline code, or *empty* for the empty string."""
    return f"`{text}`" if text else "*empty*"


def default_cell(name: str, raw: object, rendered: str) -> str:
    """The default as cookiecutter renders it, and the options it follows when it is derived."""
    if isinstance(raw, list):
        return code(str(raw[0]))
    sources = [var for var in dict.fromkeys(VARIABLE_RE.findall(str(raw))) if var != name]
    if sources:
        derived = ", ".join(f"`{source}`" for source in sources)
        return f"{code(rendered)}, derived from {derived}"
    return code(rendered)


def prompt_parts(prompt: object) -> tuple[str, dict[str, str]]:
    """The question and the per-choice help of one ``__prompts__`` entry."""
    if isinstance(prompt, Mapping):
        question = str(prompt.get("__prompt__", ""))
        per_choice = {str(k): str(v) for k, v in prompt.items() if k != "__prompt__"}
        return question, per_choice
    return str(prompt or ""), {}


def choices_cell(raw: object, per_choice: Mapping[str, str]) -> str:
    """The choices, each with its own help when ``__prompts__`` gives one."""
    if not isinstance(raw, list):
        return ""
    parts = []
    for choice in (str(value) for value in raw):
        text = per_choice.get(choice, "")
        text = text.removeprefix(f"{choice}:").strip()
        parts.append(f"`{choice}`: {text}" if text else f"`{choice}`")
    separator = "<br>" if per_choice else ", "
    return separator.join(parts)


def render(config: Mapping[str, object]) -> str:
    """The whole Markdown page for a cookiecutter.json already parsed into ``config``."""
    rendered = prompt_for_config({"cookiecutter": dict(config)}, no_input=True)
    prompts = config.get("__prompts__", {})
    assert isinstance(prompts, Mapping)
    rows = []
    for name, raw in config.items():
        if name.startswith("_"):
            continue
        question, per_choice = prompt_parts(prompts.get(name))
        row = [
            f"`{name}`",
            default_cell(name, raw, str(rendered[name])),
            choices_cell(raw, per_choice),
            question,
        ]
        rows.append("| " + " | ".join(cell(value) for value in row) + " |")
    return HEADER + "\n".join(rows) + "\n"


def load_config(path: Path = CONFIG_FILE) -> dict[str, object]:
    """cookiecutter.json as cookiecutter reads it (order kept)."""
    return dict(generate_context(context_file=str(path))["cookiecutter"])


def main(argv: list[str] | None = None) -> int:
    """Print, write or check docs/options.md; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"rewrite {PAGE.name}")
    group.add_argument("--check", action="store_true", help=f"exit 1 if {PAGE.name} is stale")
    args = parser.parse_args(argv)
    page = render(load_config())
    if args.write:
        PAGE.parent.mkdir(parents=True, exist_ok=True)
        PAGE.write_text(page, encoding="utf-8")
    elif args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != page:
            print(
                f"{PAGE.relative_to(TEMPLATE_DIR)} is stale: run "
                "uv run python scripts/options_table.py --write",
                file=sys.stderr,
            )
            return 1
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
