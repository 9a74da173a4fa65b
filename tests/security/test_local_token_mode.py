"""`mlp local up --auth-mode token --auth-tokens FILE`: local mode's pipeline controller and tuning service
answer only requests with a token of the file, in its namespaces; a bad token file is exit 2 before anything
starts."""

from __future__ import annotations

from types import SimpleNamespace

from tests.security.multiuser import TOKENS, call
from tests.support.local_fixtures import mlp

PIPELINE_EXPERIMENTS = "/apis/v2beta1/experiments?namespace=team-a"
TUNING_EXPERIMENTS = "/api/v1/experiments?namespace=team-a"


def test_local_token_mode(local_platform_factory, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(TOKENS)
    platform = local_platform_factory(components=("pipeline-controller", "tuning-service"),
                                      options=("--auth-mode", "token", "--auth-tokens", str(tokens)))
    pipelines, tuning = (SimpleNamespace(url=platform.url(name)) for name in ("pipeline-controller", "tuning-service"))
    for service, path in ((pipelines, PIPELINE_EXPERIMENTS), (tuning, TUNING_EXPERIMENTS)):
        assert call(service, "GET", path).status_code == 401, path
        assert call(service, "GET", path, "forged-token").status_code == 401, path
        assert call(service, "GET", path, "alice-token").status_code == 200, path
        assert call(service, "GET", path, "bob-token").status_code == 403, path
        assert call(service, "GET", "/readyz").status_code == 200


def test_a_bad_token_file_is_exit_2(tmp_path):
    bad = tmp_path / "tokens.csv"
    bad.write_text("alice-token,alice\n")
    state = str(tmp_path / "state")
    malformed = mlp("local", "up", "--state-dir", state, "--auth-mode", "token", "--auth-tokens", str(bad))
    assert malformed.returncode == 2 and f"{bad}:1: expected token,user,namespace" in malformed.stderr
    missing = mlp("local", "up", "--state-dir", state, "--auth-mode", "token")
    assert missing.returncode == 2 and "--auth-mode token needs --auth-tokens FILE" in missing.stderr
    alone = mlp("local", "up", "--state-dir", state, "--auth-tokens", str(bad))
    assert alone.returncode == 2 and "--auth-tokens needs --auth-mode token" in alone.stderr
    assert not (tmp_path / "state" / "processes.json").exists()
