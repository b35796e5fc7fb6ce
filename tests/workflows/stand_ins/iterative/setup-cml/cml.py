#!/usr/bin/env python3
"""A strict stand-in for the `cml` command line of CML v0.20.6.

Accepts only the real sub-commands and flags the project may use (`comment create|update`,
`pr create`), exits 1 with yargs-like messages on anything else, needs a token like the real
tool, requires the Markdown file to exist, and appends each call (argv, parsed options, the
file's content, relevant environment) as one JSON line to $STANDIN_CML_LOG.

Like the real tool, `comment` publishes by default (`--publish` is true unless
`--no-publish`/`--publish=false`): it would then upload every local file that the Markdown links
to (images and links, absolute and `../` paths included) to CML's public asset host. Nothing is
uploaded here; the files that would have been are recorded under `uploads`.
"""

import json
import os
import re
import sys
from pathlib import Path

GLOBAL_STRING = {"log", "driver", "repo", "driver-token", "token"}
COMMENT_STRING = {"target", "publish-url", "watermark-title"}
COMMENT_BOOLEAN = {"watch", "publish", "publish-native"}
PR_STRING = {
    "branch",
    "target-branch",
    "title",
    "body",
    "message",
    "remote",
    "user-email",
    "user-name",
}
PR_BOOLEAN = {"md", "skip-ci", "merge", "auto-merge", "rebase", "squash"}
ALIASES = {"token": "driver-token"}


def watermark_for(title: str) -> str:
    """What CML adds to a comment: about 106 characters with the title "Model report"."""
    return f'\n\n![](https://cml.dev/watermark.png#{"0" * 40} "CML watermark {title}")'


def refuse(message: str) -> None:
    print(f"cml: {message}", file=sys.stderr)
    sys.exit(1)


def parse(args: list[str], strings: set[str], booleans: set[str]) -> tuple[dict, list[str]]:
    options: dict[str, object] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            key, has_value, value = arg[2:].partition("=")
            if key.startswith("no-") and key[3:] in booleans and not has_value:
                options[key[3:]] = False
            elif key in booleans:
                if has_value and value not in {"true", "false"}:
                    refuse(f"Invalid value for --{key}: {value!r} (expected a boolean)")
                options[key] = value != "false" if has_value else True
            elif key in strings:
                if not has_value:
                    i += 1
                    if i >= len(args) or args[i].startswith("--"):
                        refuse(f"Not enough arguments following: {key}")
                    value = args[i]
                options[ALIASES.get(key, key)] = value
            else:
                refuse(f"Unknown argument: {key}")
        elif arg.startswith("-"):
            refuse(f"Unknown argument: {arg.lstrip('-')}")
        else:
            positional.append(arg)
        i += 1
    return options, positional


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        refuse("Not enough non-option arguments: got 0, need at least 2")
    command = argv[:2]
    if command in (["comment", "create"], ["comment", "update"]):
        options, positional = parse(argv[2:], GLOBAL_STRING | COMMENT_STRING, COMMENT_BOOLEAN)
    elif command == ["pr", "create"]:
        options, positional = parse(argv[2:], GLOBAL_STRING | PR_STRING, PR_BOOLEAN)
    else:
        refuse(f"Unknown command: {' '.join(command)}")
    options.setdefault("publish", command[0] == "comment")
    token = (
        options.get("driver-token")
        or os.environ.get("REPO_TOKEN")
        or os.environ.get("GITHUB_TOKEN")
    )
    if not token:
        refuse("Unable to authenticate: set REPO_TOKEN or GITHUB_TOKEN, or pass --token")
    body = None
    if command[0] == "comment":
        if len(positional) != 1:
            refuse(f"Expected exactly one markdown file, got {positional}")
        markdown = Path(positional[0])
        if not markdown.is_file():
            refuse(f"ENOENT: no such file or directory, open '{markdown}'")
        body = markdown.read_text(encoding="utf-8")
        # CML appends its watermark (an image link carrying a hash and the title) to the body.
        title = str(options.get("watermark-title", ""))
        watermark = watermark_for(title)
        if len(body) + len(watermark) > 65536:
            refuse("HttpError: Validation Failed: body is too long (maximum is 65536 characters)")
    elif positional:
        options["globs"] = positional
    uploads = []
    if body is not None and options.get("publish"):
        for target in re.findall(r"\]\(\s*<?([^)\s>]+)", body):
            if re.match(r"^(https?:|data:|mailto:|#)", target):
                continue
            path = Path(target) if target.startswith("/") else Path(positional[0]).parent / target
            if path.is_file():
                uploads.append(str(path.resolve()))
    record = {
        "uploads": uploads,
        "argv": argv,
        "command": " ".join(command),
        "options": options,
        "positional": positional,
        "body": body,
        "cwd": os.getcwd(),
        "token_source": "flag"
        if options.get("driver-token")
        else ("REPO_TOKEN" if os.environ.get("REPO_TOKEN") else "GITHUB_TOKEN"),
        "ITERATIVE_DO_NOT_TRACK": os.environ.get("ITERATIVE_DO_NOT_TRACK"),
    }
    with open(os.environ["STANDIN_CML_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    print("https://github.com/stand-in/comment")


main(sys.argv[1:])
