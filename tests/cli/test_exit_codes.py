"""Every `mlp` command exits with the documented codes (docs/contracts.md §3):
0 ok, 1 failed or aborted, 2 usage or bad input, 3 a dependency is unreachable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlplatform.net import free_port

UNREACHABLE_CLUSTER = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:%d"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users: [{name: u, user: {token: t}}]
"""


def mlp(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from mlplatform.cli import main; main()", *args], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120, check=False)


CASES = {
    0: [["--version"], ["traffic", "--help"]],
    1: [["local", "down"], ["local", "status"]],   # no platform in the (empty) working directory
    2: [["serve", "pipelines", "--runner", "nowhere"], ["local", "up", "--values", "missing.yaml"],
        ["canary", "rollout", "--local", "--version", "3", "--steps", "50,10"], ["no-such-command"],
        ["traffic", "http://127.0.0.1:9/v2/models/m/infer", "--body", "not json"]],
    3: [["canary", "status", "--local"],              # local mode is not running
        ["canary", "status", "--release", "mlp"], ["release", "status", "mlp"], ["validate", "--release", "mlp"],
        ["traffic", "http://127.0.0.1:{port}/v2/models/m/infer", "--body", "{{}}", "--duration", "1"]],
}


@pytest.mark.parametrize(("code", "args"), [(code, args) for code, cases in CASES.items() for args in cases],
                         ids=lambda value: " ".join(value) if isinstance(value, list) else str(value))
def test_exit_code(code, args, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_CLUSTER % free_port())
    args = [arg.format(port=free_port()) for arg in args]
    result = mlp(*args, cwd=tmp_path, env={"KUBECONFIG": str(kubeconfig)})
    assert result.returncode == code, f"mlp {' '.join(args)}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    if code:
        errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "Error:"))]
        assert errors, f"no one-line error on stderr: {result.stderr}"
        assert "Traceback" not in result.stderr


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n" for previous, name in zip("abcdef", "bcdefg"))


def test_a_values_file_alias_bomb_is_bad_input_named_at_once(tmp_path):
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)   # 9**7 nodes from ~250 bytes
    result = mlp("local", "up", "--values", "bomb.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "bomb.yaml expands (through YAML aliases)" in result.stderr
    assert not (tmp_path / ".mlplatform").exists()
