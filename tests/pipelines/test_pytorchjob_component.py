"""mlplatform.components.pytorch_job in a kfp pipeline: the real pipeline controller runs the task, which
submits a PyTorchJob to the real training operator (both as local mode runs them) and waits for it.
(No `from __future__ import annotations`: kfp reads real annotations.)"""

import sys

import pytest
from kfp import dsl

from mlplatform.components import pytorch_job
from tests.pipelines.controller import tasks_by_name
from tests.support.service_process import ServiceProcess

DDP = [sys.executable, "-m", "mlplatform.demo.ddp_trainer", "--rows", "1500", "--epochs", "2"]
FAILING = [sys.executable, "-c", "import sys; print('bad data'); sys.exit(3)"]

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # kfp.Client: "only works with KFP >= 2.0.0-beta.2"


@dsl.pipeline(name="distributed-training")
def distributed_training(training_url: str, command: list) -> str:
    job = pytorch_job(command=command, workers=1, namespace="default", training_url=training_url,
                      timeout_seconds=300)
    return job.output


@pytest.fixture(scope="module")
def training_operator(tmp_path_factory):
    operator = ServiceProcess("training", tmp_path_factory.mktemp("training-operator")).start()
    yield operator
    operator.stop()
    assert "Traceback" not in operator.logs(), operator.logs()[-4000:]


@pytest.mark.slow
def test_a_pipeline_runs_a_two_replica_pytorchjob_and_gets_its_final_condition(controller, training_operator):
    result = controller.client().create_run_from_pipeline_func(
        distributed_training, arguments={"training_url": training_operator.url, "command": DDP},
        enable_caching=False, experiment_name="pytorchjob-component")
    run = controller.wait(result.run_id, timeout=180)
    assert run["state"] == "SUCCEEDED", run.get("error")
    [task] = tasks_by_name(run)["pytorch-job"]
    log = controller.task_log(result.run_id, task["task_id"])
    assert "replicas=2" in log and "auc=" in log, log  # the master's log, rank 0 of 2


@pytest.mark.slow
def test_a_failed_pytorchjob_fails_its_task_naming_the_job(controller, training_operator):
    result = controller.client().create_run_from_pipeline_func(
        distributed_training, arguments={"training_url": training_operator.url, "command": FAILING},
        enable_caching=False, experiment_name="pytorchjob-component")
    run = controller.wait(result.run_id, timeout=120)
    assert run["state"] == "FAILED"
    [task] = tasks_by_name(run)["pytorch-job"]
    log = controller.task_log(result.run_id, task["task_id"])
    assert "PyTorchJob default/pytorchjob-" in log and "Failed" in log and "bad data" in log, log
