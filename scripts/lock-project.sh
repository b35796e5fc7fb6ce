#!/usr/bin/env bash
# Regenerate the generated project's uv.lock after changing its pyproject.toml.
# Bakes the default project, locks it with uv, and writes the lock back into the template with
# the project name turned back into its cookiecutter variable (the only project-specific line).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
uv run --project "$here" cookiecutter --no-input -o "$work" "$here" create_git_repository=no \
  project_name="Lock Probe"
(cd "$work/lock-probe" && uv lock)
# uv writes the name three ways: the package entry, conflict sets, and markers that encode
# extras as extra-<length of name>-<name>-<extra>.
sed -e 's/^name = "lock-probe"$/name = "{{ cookiecutter.project_slug }}"/' \
  -e 's/package = "lock-probe"/package = "{{ cookiecutter.project_slug }}"/g' \
  -e 's/extra-10-lock-probe-/extra-{{ cookiecutter.project_slug | length }}-{{ cookiecutter.project_slug }}-/g' \
  "$work/lock-probe/uv.lock" > "$here/{{cookiecutter.project_slug}}/uv.lock"
if grep -n 'lock-probe' "$here/{{cookiecutter.project_slug}}/uv.lock"; then
  echo "the lock still names the probe project: extend the substitutions above" >&2
  exit 1
fi
echo "wrote {{cookiecutter.project_slug}}/uv.lock"
