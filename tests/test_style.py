"""House rules of the template that no bake would catch by itself."""

from __future__ import annotations

import fnmatch
import json
import re

from conftest import TEMPLATE_ROOT

PROJECT = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
JINJA = re.compile(r"\{\{|\{%|\{#")


def test_no_jinja_inside_python_files() -> None:
    """Options are config values and pruned files, never template logic in code."""
    offenders = [
        f"{path.relative_to(TEMPLATE_ROOT)}:{number}"
        for path in sorted(PROJECT.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if JINJA.search(line)
    ]
    assert offenders == []


# The one value a workflow takes from cookiecutter: the PII key's secret, named after the package.
PII_KEY_LINE = re.compile(
    r"\s+\{% endraw %\}\{\{ cookiecutter\.package_name \| upper \}\}_PII_KEY: "
    r"\$\{\{ \"\{\{\" \}\} secrets\.\{\{ cookiecutter\.package_name \| upper \}\}_PII_KEY "
    r"\{\{ \"\}\}\" \}\}\{% raw %\}( #.*)?"
)


def test_generated_workflows_hold_no_jinja_but_the_pii_key_secret() -> None:
    """Workflow files hold GitHub's ${{ }}: copied without rendering, or rendered whole inside
    `{% raw %}` with the PII key's secret name (`<PACKAGE>_PII_KEY`) as their only Jinja."""
    verbatim = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())["_copy_without_render"]
    rendered = 0
    for path in sorted((PROJECT / ".github" / "workflows").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        if any(fnmatch.fnmatch(f".github/workflows/{path.name}", p) for p in verbatim):
            assert "cookiecutter" not in text, path.name
            assert "{%" not in text, path.name
            continue
        rendered += 1
        assert text.startswith("{% raw %}"), path.name
        assert text.endswith("{% endraw %}"), path.name
        inner = text.removeprefix("{% raw %}").removesuffix("{% endraw %}")
        for line in inner.splitlines():
            if "cookiecutter" in line or "{%" in line:
                assert PII_KEY_LINE.fullmatch(line), f"{path.name}: {line}"
    assert rendered == 3  # pr.yml, main.yml, monitor.yml: the workflows that run the pipeline
