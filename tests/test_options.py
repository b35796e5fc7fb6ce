"""cookiecutter.json: every option has a prompt, and docs/options.md is generated from it."""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Mapping

from template_tools import TEMPLATE_DIR, choice_options, cookiecutter_config, options


def test_every_prompt_is_an_option_and_every_option_has_a_prompt() -> None:
    prompts = cookiecutter_config()["__prompts__"]
    assert isinstance(prompts, Mapping)

    assert sorted(set(prompts) - set(options())) == [], "prompts for options that do not exist"
    assert sorted(set(options()) - set(prompts)) == [], "options without a prompt"


def test_choice_prompts_describe_real_choices() -> None:
    prompts = cookiecutter_config()["__prompts__"]
    assert isinstance(prompts, Mapping)
    for name, prompt in prompts.items():
        if not isinstance(prompt, Mapping):
            assert str(prompt).strip(), f"{name}: empty prompt"
            continue
        assert str(prompt.get("__prompt__", "")).strip(), f"{name}: no __prompt__"
        described = set(prompt) - {"__prompt__"}
        assert described == set(choice_options()[name]), f"{name}: help for other choices"


def test_options_page_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "options_table", TEMPLATE_DIR / "scripts" / "options_table.py"
    )
    assert spec is not None
    assert spec.loader is not None
    options_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(options_table)

    expected = options_table.render(options_table.load_config())
    current = (TEMPLATE_DIR / "docs" / "options.md").read_text(encoding="utf-8")

    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            "docs/options.md",
            "scripts/options_table.py output",
        )
    )
    assert current == expected, (
        "docs/options.md is stale: run `uv run python scripts/options_table.py --write`\n" + diff
    )
