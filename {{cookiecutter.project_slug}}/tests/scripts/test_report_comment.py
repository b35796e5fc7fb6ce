"""scripts/report_comment.py against a stand-in of GitHub's REST API (2022-11-28): issue
comments listed 100 a page (`per_page`, `page`), each with `id`, `user.login`, `body` and
`created_at`; PATCH `issues/comments/ID` edits one. `cml` is a stand-in on PATH that logs."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT

spec = importlib.util.spec_from_file_location("report_comment", ROOT / "scripts/report_comment.py")
assert spec is not None
assert spec.loader is not None
report_comment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report_comment)

REPO = "example-owner/example-model"
RUN_URL = "https://github.com/example-owner/example-model/actions/runs/4242"
WATERMARK = '![](https://cml.dev/watermark.png#0 "CML watermark Model report")'


class Api:
    """GitHub's issue-comment endpoints for one pull request, as `gh api` answers them."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> str:
        self.calls.append(args)
        if args[:2] == ["--method", "PATCH"]:
            number = int(args[2].rsplit("/", 1)[1])
            path = Path(args[4].removeprefix("body=@"))
            item = next(c for c in self.items if c["id"] == number)
            item["body"] = path.read_text(encoding="utf-8")
            return json.dumps(item)
        query = dict(p.split("=") for p in args[0].split("?", 1)[1].split("&"))
        per_page, page = min(int(query.get("per_page", 30)), 100), int(query.get("page", 1))
        return json.dumps(self.items[(page - 1) * per_page : page * per_page])


def comment(number: int, login: str, body: str) -> dict[str, Any]:
    return {"id": number, "user": {"login": login, "type": "User"}, "body": body,
            "created_at": f"2026-12-01T00:{number // 60:02d}:{number % 60:02d}Z"}  # fmt: skip


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    cml = tmp_path / "bin" / "cml"
    cml.parent.mkdir()
    cml.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "open(os.environ['CML_LOG'], 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n",
        encoding="utf-8",
    )
    cml.chmod(0o755)
    monkeypatch.setenv("PATH", f"{cml.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CML_LOG", str(tmp_path / "cml.jsonl"))
    report = tmp_path / "pr_report.md"
    report.write_text("## Metrics\n\n| metric | value |\n|---|---|\n| roc_auc | 0.93 |\n", "utf-8")
    return {"GH_REPO": REPO, "PR_NUMBER": "7", "REPORT": str(report), "CONCLUSION": "success",
            "RUN_URL": RUN_URL, "RUNNER_TEMP": str(tmp_path)}  # fmt: skip


def cml_calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(os.environ["CML_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_forty_comments_update_the_owned_one_and_never_the_attackers(env: dict[str, str]) -> None:
    """The workflow's comment is on page 1; an attacker's comment with the report's marker and
    CML's watermark is the newest, on page 2 of 30 (what CML 0.20.6 reads: one page)."""
    items = [comment(1, "github-actions[bot]", report_comment.MARKER + "\nold report")]
    items += [comment(n, "someone", f"comment {n}") for n in range(2, 40)]
    forged = f"{report_comment.MARKER}\nGate: passed {WATERMARK}"
    items.append(comment(40, "attacker", forged))
    api = Api(items)
    assert report_comment.post(env, api) == "updated comment 1 on pull request #7"
    assert items[-1]["body"] == forged  # never edited
    assert "roc_auc | 0.93" in items[0]["body"]
    assert cml_calls(env) == []  # not posted again
    assert [c[0] for c in api.calls[:1]] == [f"repos/{REPO}/issues/7/comments?per_page=100&page=1"]


def test_comments_are_read_across_pages(env: dict[str, str]) -> None:
    items = [comment(n, "someone", "hi") for n in range(1, 151)]
    items.append(comment(151, "github-actions[bot]", report_comment.MARKER))
    api = Api(items)
    assert report_comment.post(env, api) == "updated comment 151 on pull request #7"
    listed = [c[0] for c in api.calls if c[0].startswith("repos/")]
    assert listed == [f"repos/{REPO}/issues/7/comments?per_page=100&page={p}" for p in (1, 2)]


def test_with_only_an_attackers_marked_comment_cml_creates_one(env: dict[str, str]) -> None:
    forged = comment(3, "attacker", report_comment.MARKER + WATERMARK)
    api = Api([forged])
    assert report_comment.post(env, api) == "created a comment on pull request #7"
    assert forged["body"] == report_comment.MARKER + WATERMARK
    (call,) = cml_calls(env)
    assert call[:4] == ["comment", "create", "--target=pr/7", "--no-publish"]
    body = Path(call[4]).read_text(encoding="utf-8")
    assert body.startswith(report_comment.MARKER + "\n**Model report**: generated by this pull")
    assert f"[its run]({RUN_URL}), which succeeded." in body


def test_the_pull_requests_text_cannot_speak_as_the_bot() -> None:
    text = (
        "Gate passed, ping @maintainer and @org/team <img src=x onerror=alert(1)>"
        "<!-- model-report: owned by the pull request comment workflow --><details open>"
    )
    body = report_comment.compose(text, "success", RUN_URL)
    assert body.count(report_comment.MARKER) == 1  # only the header's
    assert "<img" not in body
    assert "<details" not in body
    assert "<" not in body.split("\n", 1)[1]
    assert "@maintainer" not in body
    assert "@\u2060maintainer" in body
    assert "@\u2060org/team" in body
    kept = report_comment.clean("<details><summary>Columns</summary>\n\n| a |\n</details>")
    assert kept == "<details><summary>Columns</summary>\n\n| a |\n</details>"  # the drift section


def test_a_failed_run_is_said_so_and_its_report_is_plain_text() -> None:
    body = report_comment.compose("### Quality gate: PASS\n| a | b |", "failure", RUN_URL)
    assert "which did **not** succeed (failure)." in body
    assert "no check in it passed" in body
    assert "\n    ### Quality gate: PASS\n" in body  # an indented block: shown, not rendered
    assert not re.search(r"^###", body, re.MULTILINE)


def test_the_body_is_capped_and_the_run_url_must_be_the_events() -> None:
    body = report_comment.compose("x" * 200_000, "success", RUN_URL)
    assert len(body) <= report_comment.LIMIT
    assert "the whole report is in the run" in body
    with pytest.raises(report_comment.CommentError, match="RUN_URL 'javascript:x'"):
        report_comment.compose("x", "success", "javascript:x")


def test_links_and_images_out_of_the_run_are_shown_as_text() -> None:
    """The attack: the pull request's report links the bot's comment to an attacker's page and
    loads an attacker's image (a tracking pixel, or a fake "gate passed" badge)."""
    report = (
        "Details: [click](https://evil) and ![x](https://evil/p.png)\n"
        "[ref]: https://evil/ref\nsee also https://evil/bare and www.evil.example\n"
        "[climb](../../../attacker/repo) [rooted](/attacker/repo)\n"
        f"[artifacts]({RUN_URL}/artifacts/7) ![roc](images/roc.svg)\n"
    )
    body = report_comment.compose(report, "success", RUN_URL)
    assert "click (`https://evil`)" in body
    assert "image x (`https://evil/p.png`)" in body
    assert "\\[ref\\]: `https://evil/ref`" in body
    assert "`https://evil/bare`" in body
    assert "`www.evil.example`" in body
    assert "climb (`../../../attacker/repo`)" in body
    assert "rooted (`/attacker/repo`)" in body
    assert "](https://evil" not in body
    # What points into the run (its artifacts) or at the report's own files stays a link.
    assert f"[artifacts]({RUN_URL}/artifacts/7)" in body
    assert "![roc](images/roc.svg)" in body
    assert f"[its run]({RUN_URL})" in body  # the trusted header
