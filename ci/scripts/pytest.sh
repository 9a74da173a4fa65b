#!/usr/bin/env bash
# Runs pytest from the project venv. Exit code 5 (nothing collected) is an error for the full suite
# and a notice for a narrowed selection (-m/-k), where an empty selection can be legitimate.
#
# Tests run on PYTEST_WORKERS pytest-xdist workers (default 2) with `--dist loadgroup`: tests that share a
# fixed port, the checkout's own files or an expensive module/session fixture carry an xdist_group mark
# (tests/conftest.py adds most of them; tests/README.md has the rules). PYTEST_WORKERS=0 runs serially, as
# do arguments that choose their own (-n/--numprocesses/--dist, -p no:xdist, --pdb, --trace).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$root/.tools/bin:$root/.venv/bin:$PATH"
export MLP_TOOLS_DIR="$root/.tools"

workers="${PYTEST_WORKERS:-2}"
parallel=()
if [ "$workers" != "0" ] && ! printf '%s\n' "$@" | grep -qE '^(-n|-n[0-9]+|--numprocesses(=.*)?|--dist(=.*)?|--pdb|--trace|no:xdist|-pno:xdist)$'; then
  parallel=(-n "$workers" --dist loadgroup --no-loadscope-reorder)   # tests/conftest.py orders the work
fi
"$root/.venv/bin/python" -m pytest "${parallel[@]}" "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  if printf '%s\n' "$@" | grep -qE '^-(m|k)$'; then
    echo "pytest: no tests matched this selection (exit 5); nothing to run" >&2
    exit 0
  fi
  echo "error: pytest collected no tests (exit 5); the suite is empty or failed to import" >&2
fi
exit "$rc"
