#!/usr/bin/env bash
# The demo: bake the default project into ./demo, set it up, run its pipeline on the bundled
# sample, and show the results. Called by `make demo` (which provides uv on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/demo"
rm -rf "$out"
mkdir -p "$out"
export DVC_NO_ANALYTICS=1 BENTOML_DO_NOT_TRACK=True

echo "==> Baking the default project into demo/"
uv run --frozen --project "$here" cookiecutter --no-input -o "$out" "$here"
project="$out/term-deposit-model"
cd "$project"
if [ ! -d .git ]; then
  git init -q -b main && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm "Initial commit"
fi

echo "==> make setup (uv sync from the committed uv.lock)"
make setup
echo "==> make run (dvc exp run: prepare -> train -> evaluate)"
make run
echo "==> Quality gate"
make gate
if make -n report >/dev/null 2>&1; then
  echo "==> The report (reports/pr_report.md): gate, metrics with 95% intervals, data, plots"
  make report
  cat reports/pr_report.md
fi
echo
echo "Done. The project is in $project: cd there and see its README (make help lists the targets)."
