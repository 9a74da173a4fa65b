#!/usr/bin/env bash
# Runs pytest from the project venv. Exit code 5 (nothing collected) is an error for the full suite
# and a notice for a narrowed selection (-m/-k), where an empty selection can be legitimate.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$root/.tools/bin:$root/.venv/bin:$PATH"
export MLP_TOOLS_DIR="$root/.tools"
"$root/.venv/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  if printf '%s\n' "$@" | grep -qE '^-(m|k)$'; then
    echo "pytest: no tests matched this selection (exit 5); nothing to run" >&2
    exit 0
  fi
  echo "error: pytest collected no tests (exit 5); the suite is empty or failed to import" >&2
fi
exit "$rc"
