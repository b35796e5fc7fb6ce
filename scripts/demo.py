"""`make demo`: a pull request of the default project judged against its `main`, in demo/.

Bakes the default project, sets it up, runs its pipeline on `main` and commits the results (what
`main` holds after a merge), then opens a branch that changes one hyper-parameter, runs it, and
makes the report exactly as the pull-request comment would (`make report` against `main`).
Prints a short summary (the verdict, the compared metrics with their intervals, where the full
report is, what a merge would do next); every command's output goes to demo/demo.log.

A demo/ that holds changes this demo did not make (edited files, new commits, other files) is
kept: the script says so and stops, unless DEMO_FORCE=1. Run by `make demo` through the
template's environment: `uv run --frozen python scripts/demo.py [--dir DIR]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
STATE_FILE = ".demo-state.json"
LOG_FILE = "demo.log"
BASE = "main"
BRANCH = "faster-learning"
# The pull request's change: one hyper-parameter a reviewer can read (file, old line, new line).
CHANGE = ("conf/model/xgboost.yaml", "learning_rate: 0.05", "learning_rate: 0.1")
CHANGE_TITLE = "Learn faster: learning_rate 0.05 -> 0.1 (fewer boosting rounds)"
SUMMARY_METRICS = 4
IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "Demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
}
# The caller's variables that would leak into the project's tools (the template's environment,
# the outer make's level and flags).
LEAKY = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX")
LEAKY_MAKE = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


class DemoError(Exception):
    """A step failed, or demo/ may not be rebuilt: the message says what to do."""


# --- demo/ is rebuilt only when it holds nothing but what the demo made -----------------------


def fingerprint(demo: Path, project: Path) -> dict[str, Any]:
    """What a later run compares: the project's refs and uncommitted files (with their
    content hashes), and the entries of demo/ beside the project."""
    refs = _git(project, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
    status = _git(project, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    changed = {}
    for entry in filter(None, status.split("\0")):
        path = project / entry[3:]
        changed[entry[3:]] = f"{entry[:2]} {_digest(path)}"
    beside = {p.name: _digest(p) for p in demo.iterdir() if p not in (project, demo / STATE_FILE)}
    return {"refs": sorted(refs), "uncommitted": changed, "beside": beside}


def changes_not_made(demo: Path) -> list[str]:
    """What in `demo` the demo did not write (empty: it may be rebuilt)."""
    if not demo.exists() or (demo.is_dir() and not any(demo.iterdir())):
        return []
    state_file = demo / STATE_FILE
    if not state_file.is_file():
        return [f"{demo} was not made by this demo (it has no {STATE_FILE})"]
    state = json.loads(state_file.read_text(encoding="utf-8"))
    if not state.get("finished"):
        return []  # an interrupted run: nothing in it was handed over yet
    project = demo / state["project"]
    if not (project / ".git").is_dir():
        return [f"{project} is no longer a git repository"]
    now, then = fingerprint(demo, project), state["fingerprint"]
    refs_now, refs_then = _ref_map(now["refs"]), _ref_map(then["refs"])
    found = [
        f"{project.name}: {name} ({'new' if name not in refs_then else 'moved or removed'})"
        for name in sorted(set(refs_now) | set(refs_then))
        if refs_now.get(name) != refs_then.get(name)
    ]
    for path in sorted(set(now["uncommitted"]) | set(then["uncommitted"])):
        if now["uncommitted"].get(path) != then["uncommitted"].get(path):
            found.append(f"{project.name}: {path} ({_describe(now['uncommitted'].get(path))})")
    for name in sorted(set(now["beside"]) | set(then["beside"])):
        if now["beside"].get(name) != then["beside"].get(name):
            what = "removed" if name not in now["beside"] else "not written by the demo"
            found.append(f"{demo.name}/{name} ({what})")
    return found


def _ref_map(lines: Sequence[str]) -> dict[str, str]:
    """{ref name: commit} from `git for-each-ref` lines."""
    return dict(line.split(" ", 1) for line in lines)


def _describe(status: str | None) -> str:
    if status is None:
        return "changed back to the demo's commit"
    code = status.split()[0]
    return {"??": "new file", "D": "deleted", "M": "modified"}.get(code, f"git status {code}")


def prepare_directory(demo: Path, force: bool) -> None:
    """Empty `demo` for a new run, or stop if it holds changes the demo did not make."""
    found = changes_not_made(demo)
    if found and not force:
        listed = "\n".join(f"  - {line}" for line in found[:12])
        more = f"\n  ... and {len(found) - 12} more" if len(found) > 12 else ""
        raise DemoError(
            f"{_shown(demo)}/ holds changes the demo did not make:\n{listed}{more}\n"
            f"To keep them, move the folder first (mv {_shown(demo)} my-demo), then run the demo "
            "again;\n"
            f"to discard them and rebuild: DEMO_FORCE=1 make demo"
        )
    if found:
        print(f"==> DEMO_FORCE=1: discarding {demo} ({len(found)} changes the demo did not make)")
    if demo.exists():
        shutil.rmtree(demo)
    demo.mkdir(parents=True)


# --- the run ----------------------------------------------------------------------------------


class Steps:
    """Runs each command with its output in the log; prints one line per step."""

    def __init__(self, log: Path, env: Mapping[str, str]) -> None:
        self.log, self.env = log, dict(env)

    def run(self, title: str, args: Sequence[str], cwd: Path, **extra: str) -> None:
        start = time.monotonic()
        if title:
            print(f"==> {title}", end="", flush=True)
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"\n$ {' '.join(args)}    # in {cwd}\n")
            out.flush()
            result = subprocess.run(
                list(args), cwd=cwd, env={**self.env, **extra}, stdout=out,
                stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        if title:
            print(f" ({time.monotonic() - start:.0f} s)", flush=True)
        if result.returncode != 0:
            tail = "".join(self.log.read_text(encoding="utf-8").splitlines(True)[-25:])
            raise DemoError(
                f"{' '.join(args)} failed (exit {result.returncode}) in {cwd}. The last lines "
                f"of {self.log}:\n{tail}"
            )

    def together(self, title: str, jobs: Sequence[tuple[Sequence[str], Path]]) -> None:
        """Run the commands at the same time (2 cores: the pipeline's stages are mostly
        single-threaded); their outputs go to the log one after the other."""
        start = time.monotonic()
        print(f"==> {title}", end="", flush=True)
        failed = []
        with ExitStack() as stack, self.log.open("a", encoding="utf-8") as log:
            running = []
            for args, cwd in jobs:
                out = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
                process = subprocess.Popen(
                    list(args), cwd=cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
                )
                running.append((args, cwd, out, process))
            for args, cwd, out, process in running:
                code = process.wait()
                out.seek(0)
                log.write(f"\n$ {' '.join(args)}    # in {cwd}\n{out.read()}")
                failed += [f"{' '.join(args)} failed (exit {code}) in {cwd}"] if code else []
        print(f" ({time.monotonic() - start:.0f} s)", flush=True)
        if failed:
            raise DemoError("; ".join(failed) + f". Its output is in {self.log}.")


def project_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY + LEAKY_MAKE}
    env.update({"DVC_NO_ANALYTICS": "1", "BENTOML_DO_NOT_TRACK": "True", **IDENTITY})
    return env


def bake(demo: Path, steps: Steps) -> Path:
    """The default project, baked into `demo` (the template's hook makes its first commit)."""
    steps.run(
        f"Bake the default project into {_shown(demo)}/",
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(demo), str(TEMPLATE)],
        demo,
    )  # fmt: skip
    baked = [p for p in demo.iterdir() if p.is_dir()]
    if len(baked) != 1:
        raise DemoError(f"expected one baked project in {demo}, found {len(baked)}")
    return baked[0]


def make_pull_request(project: Path, steps: Steps) -> None:
    """`main` with its pipeline's results committed, then the branch with its change and its run.

    Both pipelines run at the same time: the branch's in a clone of the bake, beside the project
    (then removed). The branch's commit is main's results commit with the clone's files on top:
    the tree a run after main's would give (the stages are deterministic and `prepare` is the
    same), in half the time on 2 cores.
    """
    if not (project / ".git").is_dir():
        steps.run("", ["git", "init", "-q", "-b", BASE], project)
        _commit(project, steps, "Initial commit")
    steps.run("make setup (the locked environment)", ["make", "setup"], project)
    branch = project.parent / f"{project.name}-{BRANCH}"
    steps.run("", ["git", "clone", "-q", "-b", BASE, str(project), str(branch)], project.parent)
    steps.run("", ["git", "switch", "-q", "-c", BRANCH], branch)
    path, old, new = CHANGE
    text = (branch / path).read_text(encoding="utf-8")
    if old not in text:
        raise DemoError(f"{path} has no line `{old}`: the demo's change needs updating")
    (branch / path).write_text(text.replace(old, new, 1), encoding="utf-8")
    steps.run("", ["make", "setup"], branch)
    steps.together(
        f"make run on {BASE}, and on branch {BRANCH} ({CHANGE_TITLE}) beside it",
        [(["make", "run"], project), (["make", "run"], branch)],
    )
    _commit(project, steps, "Run the pipeline: params.yaml, dvc.lock and metrics, as after a merge")
    message = f"{CHANGE_TITLE}\n\nWith params.yaml and dvc.lock from `make run`."
    _commit(branch, steps, message)
    steps.run("", ["git", "fetch", "-q", str(branch), BRANCH], project)
    steps.run("", ["git", "switch", "-q", "-c", BRANCH], project)
    steps.run("", ["git", "read-tree", "-u", "--reset", "FETCH_HEAD"], project)
    _commit(project, steps, message)
    shutil.copytree(
        branch / ".dvc" / "cache", project / ".dvc" / "cache", dirs_exist_ok=True,
        copy_function=_link_new,
    )  # fmt: skip
    steps.run("", ["uv", "run", "--frozen", "dvc", "checkout", "--quiet"], project)
    shutil.rmtree(branch)
    steps.run(
        f"make report against {BASE}, as the pull-request workflow runs it",
        ["make", "report"], project, BASELINE=BASE, REMOTE="none",
    )  # fmt: skip


def _link_new(source: str, target: str) -> None:
    """Hard-link a DVC cache file the target cache does not hold yet (same content if it does)."""
    if not os.path.exists(target):
        os.link(source, target)


def _commit(project: Path, steps: Steps, message: str) -> None:
    steps.run("", ["git", "add", "-A"], project)
    steps.run("", ["git", "commit", "-q", "-m", message], project)


# --- the summary ------------------------------------------------------------------------------


def summary(project: Path, demo: Path, elapsed: float) -> str:
    """The verdict, the compared metrics with their intervals, the reports, the merge."""
    verdict = json.loads((project / "reports" / "pr_gate.json").read_text(encoding="utf-8"))
    lines = [
        "",
        f"Pull request `{BRANCH}` ({CHANGE_TITLE}) against `{BASE}`:",
        f"  quality gate: {'PASS' if verdict['passed'] else 'FAIL'} "
        f"({verdict['comparison']} comparison: {_comparison_note(verdict['comparison'])})",
    ]
    lines.append("  " + rules_line(verdict["rules"]))
    lines += [f"  failed: {r['message'] or r['rule']}" for r in verdict["rules"] if not r["passed"]]
    lines.append(f"  {'metric':<10} {BASE:>8} {'this PR':>8}   difference [95% interval]")
    for name, metric in list(verdict.get("metrics", {}).items())[:SUMMARY_METRICS]:
        lines.append("  " + metric_line(name, metric))
    report = project / "reports" / "pr_report.md"
    lines += [
        f"Full report (the comment): {_shown(report)}",
        f"           (offline page): {_shown(report.with_suffix('.html'))}",
        f"After a merge, main rebuilds the model from the merged commit, checks its md5 "
        f"{model_md5(project)} (this branch's dvc.lock), and `make package` packages exactly it.",
        f"Done in {elapsed:.0f} s. The project is {_shown(project)} (branch {BRANCH}); "
        f"its output is in {_shown(demo / LOG_FILE)}.",
    ]
    return "\n".join(lines)


RULE_KINDS = {"vs_trivial": "better than the trivial model", "vs_baseline": "no regression"}


def rules_line(rules: Sequence[Mapping[str, Any]]) -> str:
    """`7 of 7 rules passed: 2 better than the trivial model, 5 no regression`."""
    kinds: dict[str, int] = {}
    for rule in rules:
        kind = RULE_KINDS.get(rule.get("kind", ""), str(rule.get("kind", "other")))
        kinds[kind] = kinds.get(kind, 0) + 1
    passed = sum(bool(r["passed"]) for r in rules)
    parts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    return f"{passed} of {len(rules)} rules passed ({parts}; the reasons are in the report)"


def metric_line(name: str, metric: Mapping[str, Any]) -> str:
    """`roc_auc  0.8057  0.8026   -0.0031 [-0.0061, -0.0001]  worse`."""
    base, current, difference = metric["baseline"], metric["current"], metric["difference"]
    arrow = " (lower is better)" if metric["lower_is_better"] else ""
    if base is None or difference is None:
        return f"{name:<10} {'-':>8} {current['value']:>8.4f}   not compared{arrow}"
    low, high = difference["ci_low"], difference["ci_high"]
    if low <= 0 <= high:
        reading = "no significant change"
    else:
        up = low > 0
        reading = "better" if up != bool(metric["lower_is_better"]) else "worse"
    return (
        f"{name:<10} {base['value']:>8.4f} {current['value']:>8.4f}   "
        f"{difference['value']:+.4f} [{low:+.4f}, {high:+.4f}]  {reading}{arrow}"
    )


def _comparison_note(mode: str) -> str:
    return {
        "paired": "both models scored the same test rows",
        "unpaired": "each model's own intervals",
    }.get(mode, "see the report")


def model_md5(project: Path) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text(encoding="utf-8"))
    for out in lock["stages"]["train"]["outs"]:
        if out["path"].endswith("model.ubj"):
            return str(out["md5"])
    raise DemoError("dvc.lock's train stage records no model.ubj")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def _digest(path: Path) -> str:
    if path.is_symlink():
        return "link " + os.readlink(path)
    if path.is_dir():
        return "folder"
    if not path.exists():
        return "deleted"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=TEMPLATE / "demo", help="where to build it")
    args = parser.parse_args(argv)
    demo = args.dir.resolve()
    start = time.monotonic()
    try:
        prepare_directory(demo, os.environ.get("DEMO_FORCE") == "1")
        state = {"finished": False}
        (demo / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        steps = Steps(demo / LOG_FILE, project_env())
        project = bake(demo, steps)
        make_pull_request(project, steps)
        text = summary(project, demo, time.monotonic() - start)
        state = {
            "finished": True,
            "project": project.name,
            "fingerprint": fingerprint(demo, project),
        }
        (demo / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")
    except DemoError as error:
        print(f"\ndemo: {error}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
