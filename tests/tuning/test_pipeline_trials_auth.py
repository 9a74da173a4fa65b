"""Pipeline trials against a multi-user pipeline controller: the tuning service sends its token
(`--pipelines-token-file`; in a pod its ServiceAccount's) and the runs land in the tuning experiment's namespace.
Real processes: the pipeline controller in token mode, the tuning service with the token file."""

import pytest
from kfp import compiler

from tests.security.multiuser import call, running
from tests.support.service_process import ServiceProcess
from tests.tuning.helpers import TuningService, condition, trial_state
from tests.tuning.test_pipeline_trials import experiment, training

SERVICE_ACCOUNT = "system:serviceaccount:mlplatform:mlp-tuning-service"
TOKENS = f"tuning-token,{SERVICE_ACCOUNT},team-a\nalice-token,alice,team-a\n"


def small(manifest: dict, namespace: str) -> dict:
    """Two trials, one at a time, in `namespace`."""
    manifest["metadata"]["namespace"] = namespace
    manifest["spec"].update(parallelTrialCount=1, maxTrialCount=2)
    return manifest


@pytest.fixture
def controller(tmp_path):
    """`mlp serve pipelines --auth-mode token`: the tuning service's ServiceAccount may act in team-a only."""
    (tmp_path / "tokens.csv").write_text(TOKENS)
    args = ["--auth-mode", "token", "--auth-tokens", str(tmp_path / "tokens.csv"),
            "--artifact-root", str(tmp_path / "artifacts")]
    with running(ServiceProcess("pipelines", tmp_path / "pipelines", max_parallel=2, args=args).start()) as service:
        yield service


@pytest.fixture
def uploaded(controller, tmp_path) -> str:
    """The training pipeline, uploaded into team-a."""
    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    with package.open("rb") as handle:
        response = call(controller, "POST", "/apis/v2beta1/pipelines/upload", "alice-token",
                        params={"name": "tuned-training", "namespace": "team-a"}, files={"uploadfile": handle})
    assert response.status_code == 200, response.text
    return "tuned-training"


@pytest.mark.slow
def test_pipeline_trials_send_the_token_and_run_in_the_experiment_namespace(controller, uploaded, start_tuning,
                                                                            tmp_path):
    token = tmp_path / "token"
    token.write_text("tuning-token\n")
    tuning = start_tuning(extra_args=["--pipelines-url", controller.url, "--pipelines-token-file", str(token)])

    tuning.create(small(experiment("pipeline-auth", {"pipelineName": uploaded}), "team-a"))
    done = tuning.wait_finished("pipeline-auth", timeout=240)
    assert condition(done, "Succeeded"), done["status"]
    trials = tuning.trials("pipeline-auth")
    assert len(trials) == 2 and all(trial_state(trial) == "Succeeded" for trial in trials)
    experiments = call(controller, "GET", "/apis/v2beta1/experiments?namespace=team-a", "alice-token").json()
    assert [item["display_name"] for item in experiments["experiments"]] == ["pipeline-auth"]
    runs = call(controller, "GET", "/apis/v2beta1/runs?namespace=team-a", "alice-token").json()["runs"]
    assert sorted(run["display_name"] for run in runs) == sorted(trial["metadata"]["name"] for trial in trials)


@pytest.mark.slow
def test_pipeline_trials_without_a_token_fail_with_the_controllers_401(controller, uploaded, tmp_path):
    tuning = TuningService(tmp_path / "tuning", extra_args=["--pipelines-url", controller.url]).start()
    try:
        tuning.create(small(experiment("pipeline-no-token", {"pipelineName": uploaded}), "team-a"))
        done = tuning.wait_finished("pipeline-no-token", timeout=120)
        trials = tuning.trials("pipeline-no-token")
    finally:
        tuning.stop()   # it logs why the trial could not start, with its traceback
    assert condition(done, "Failed"), done["status"]
    failed = condition(trials[0], "Failed")["message"]
    assert f"the pipeline controller at {controller.url} answered HTTP 401" in failed, failed
    assert "no bearer token" in failed and "\n" not in failed, failed
