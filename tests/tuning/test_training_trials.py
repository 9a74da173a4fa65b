"""Katib trials that are Training Operator jobs (PyTorchJob, TFJob), run by the training operator.

The local-mode tests start the real training operator and tuning service (`mlp local up`) and drive them
with the real KatibClient, as Katib's examples/v1beta1/kubeflow-training-operator/pytorchjob-mnist.yaml
is run: a 2-replica gloo DDP job per trial, its loss read from the master's log.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from kubernetes import client

from mlplatform.runners import TaskState
from mlplatform.tuning.spec import SpecError, parse_experiment
from mlplatform.tuning.training_trials import job_status
from tests.support import polling
from tests.support.local_fixtures import start_local_platform
from tests.tuning.helpers import OBJECTIVES, condition, load
from tests.tuning.test_chart_and_crds import crds
from tests.tuning.test_katib_sdk import katib_sdk

TRAINING_CRDS = Path(__file__).resolve().parents[2] / "charts" / "training-operator" / "crds"
CLUSTER_NAMESPACE = "default"

PYTORCH_EXPERIMENT = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: {name}
spec:
  parallelTrialCount: 2
  maxTrialCount: 2
  maxFailedTrialCount: 1
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.05"
        max: "0.5"
  trialTemplate:
    primaryContainerName: pytorch
    trialParameters:
      - name: learningRate
        description: Learning rate for the training model
        reference: lr
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: PyTorchJob
      spec:
        pytorchReplicaSpecs:
          Master:
            replicas: 1
            restartPolicy: OnFailure
            template:
              spec:
                containers:
                  - name: pytorch
                    image: docker.io/kubeflowkatib/pytorch-mnist-cpu:latest
                    command: ["{python}", "-m", "mlplatform.demo.ddp_trainer", "--rows=1500", "--epochs=2",
                              "--lr=${{trialParameters.learningRate}}"]
          Worker:
            replicas: 1
            restartPolicy: OnFailure
            template:
              spec:
                containers:
                  - name: pytorch
                    image: docker.io/kubeflowkatib/pytorch-mnist-cpu:latest
                    command: ["{python}", "-m", "mlplatform.demo.ddp_trainer", "--rows=1500", "--epochs=2",
                              "--lr=${{trialParameters.learningRate}}"]
"""

TF_EXPERIMENT = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: {name}
spec:
  parallelTrialCount: 1
  maxTrialCount: 2
  maxFailedTrialCount: 0
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.1"
  trialTemplate:
    primaryContainerName: tensorflow
    trialParameters:
      - name: learningRate
        reference: lr
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: TFJob
      spec:
        tfReplicaSpecs:
          Chief:
            replicas: 1
            restartPolicy: OnFailure
            template:
              spec:
                containers:
                  - name: tensorflow
                    image: docker.io/kubeflowkatib/tf-mnist-with-summaries:latest
                    command: ["{python}", "{objectives}/tf_config.py", "--lr=${{trialParameters.learningRate}}"]
          Worker:
            replicas: 2
            restartPolicy: OnFailure
            template:
              spec:
                containers:
                  - name: tensorflow
                    image: docker.io/kubeflowkatib/tf-mnist-with-summaries:latest
                    command: ["{python}", "{objectives}/tf_config.py", "--lr=${{trialParameters.learningRate}}"]
"""


def pytorch_experiment(name: str) -> dict:
    return load(PYTORCH_EXPERIMENT.format(name=name, python=sys.executable))


def tf_experiment(name: str) -> dict:
    return load(TF_EXPERIMENT.format(name=name, python=sys.executable, objectives=OBJECTIVES))


def problems_of(manifest: dict) -> list[str]:
    with pytest.raises(SpecError) as refused:
        parse_experiment(manifest)
    return refused.value.problems


# --- the spec ----------------------------------------------------------------------------------------------


def test_a_pytorchjob_trial_template_gets_katibs_defaults_for_training_jobs():
    manifest = pytorch_experiment("defaults")
    del manifest["spec"]["trialTemplate"]["primaryContainerName"]
    experiment = parse_experiment(manifest)
    template = experiment.manifest["spec"]["trialTemplate"]  # as GET shows it
    assert experiment.template.kind == "PyTorchJob"
    assert template["primaryContainerName"] == experiment.template.primary_container == "pytorch"
    assert template["successCondition"] == 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
    assert template["failureCondition"] == 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    assert template["primaryPodLabels"] == {"training.kubeflow.org/job-role": "master"}
    assert (experiment.template.success_condition, experiment.template.failure_condition) == ("Succeeded", "Failed")
    assert parse_experiment(tf_experiment("tf-defaults")).template.primary_container == "tensorflow"


def test_bad_training_trial_templates_are_refused_naming_each_problem():
    manifest = pytorch_experiment("bad")
    template = manifest["spec"]["trialTemplate"]
    template["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["name"] = "x"
    template["successCondition"] = "status.phase == Done"
    manifest["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/m.txt", "kind": "File"}}}
    problems = problems_of(manifest)
    assert any("pytorchReplicaSpecs.Worker: needs a container named 'pytorch'" in p for p in problems), problems
    assert any("successCondition: 'status.phase == Done' is not supported" in p for p in problems), problems
    assert any("File is not supported for PyTorchJob trials" in p for p in problems), problems

    empty = tf_experiment("empty")
    del empty["spec"]["trialTemplate"]["trialSpec"]["spec"]["tfReplicaSpecs"]
    assert any("tfReplicaSpecs: missing" in p for p in problems_of(empty))


def test_a_service_without_a_training_operator_refuses_training_trials_saying_how_to_get_them(tuning):
    response = tuning.submit(yaml.safe_dump(pytorch_experiment("no-operator")))
    assert response.status_code == 400, response.text
    assert "--training-url" in response.text


def test_a_training_url_that_is_not_http_is_exit_2_naming_it():
    done = subprocess.run([str(Path(sys.executable).parent / "mlp"), "serve", "tuning", "--training-url",
                           "localhost:8686"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--training-url: 'localhost:8686' is not an http:// or https:// URL" in done.stderr


@pytest.mark.parametrize("conditions, state", [
    ([], TaskState.PENDING),
    ([("Created", "True")], TaskState.PENDING),
    ([("Created", "True"), ("Running", "True")], TaskState.RUNNING),
    ([("Running", "False"), ("Succeeded", "True")], TaskState.SUCCEEDED),
    ([("Running", "False"), ("Failed", "True")], TaskState.FAILED),
])
def test_the_trial_state_follows_the_jobs_conditions(conditions, state):
    template = parse_experiment(pytorch_experiment("states")).template
    job = {"status": {"conditions": [{"type": kind, "status": value} for kind, value in conditions]}}
    assert job_status(job, template).state is state


# --- local mode: the training operator runs the trials --------------------------------------------------------


@pytest.fixture(scope="module")
def training_platform(tmp_path_factory):
    platform = start_local_platform(tmp_path_factory.mktemp("training-platform"),
                                    components=("training-operator", "tuning-service"))
    yield platform
    platform.down()


@pytest.mark.slow
def test_katib_client_runs_a_pytorchjob_experiment_to_an_optimal_trial(training_platform):
    katib = katib_sdk()
    client = katib.KatibClient(config_file=training_platform.endpoints.extra["kubeconfig"], namespace="kubeflow")
    client.create_experiment(pytorch_experiment("pytorch-ddp"))
    client.wait_for_experiment_condition("pytorch-ddp", timeout=240, polling_interval=1)

    experiment = client.get_experiment("pytorch-ddp")
    assert experiment.status.trials_succeeded == 2, experiment.status
    optimal = client.get_optimal_hyperparameters("pytorch-ddp")
    assert optimal.best_trial_name and float(optimal.observation.metrics[0].latest) > 0
    tuning = training_platform.url("tuning-service")
    for trial in client.list_trials("pytorch-ddp"):
        assert trial.spec.run_spec["kind"] == "PyTorchJob"
        logs = requests.get(f"{tuning}/api/v1/experiments/pytorch-ddp/trials/{trial.metadata.name}/logs",
                            timeout=30).text
        assert "replicas=2" in logs and "auc=" in logs, logs  # the master's log: rank 0 of 2
    operator = training_platform.url("training-operator")
    jobs = requests.get(f"{operator}/apis/kubeflow.org/v1/namespaces/kubeflow/pytorchjobs", timeout=30).json()
    assert jobs["items"] == []  # finished trial jobs are deleted, as Katib does without retain


@pytest.mark.slow
def test_tfjob_trials_read_the_chiefs_log(training_platform):
    tuning = training_platform.url("tuning-service")
    response = requests.post(f"{tuning}/api/v1/experiments", json=tf_experiment("tf-chief"), timeout=30)
    assert response.status_code == 201, response.text
    experiment = wait_finished(tuning, "tf-chief")
    assert condition(experiment, "Succeeded"), experiment["status"]
    assert experiment["status"]["trialsSucceeded"] == 2
    trial = experiment["status"]["currentOptimalTrial"]["bestTrialName"]
    logs = requests.get(f"{tuning}/api/v1/experiments/tf-chief/trials/{trial}/logs", timeout=30).text
    assert "workers=2" in logs, logs


PUSH_FROM_RANK_0 = ("import os, sys; from mlplatform.tuning import report_metrics; "
                    "os.environ['RANK'] == '0' and report_metrics({'loss': (float(sys.argv[1]) - 0.2) ** 2})")


@pytest.mark.slow
def test_pytorchjob_trials_can_push_their_metrics_from_any_replica(training_platform):
    manifest = pytorch_experiment("pushed-ddp")
    manifest["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "Push"}}
    for replica in manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"].values():
        replica["template"]["spec"]["containers"][0]["command"] = [
            sys.executable, "-c", PUSH_FROM_RANK_0, "${trialParameters.learningRate}"]
    tuning = training_platform.url("tuning-service")
    response = requests.post(f"{tuning}/api/v1/experiments", json=manifest, timeout=30)
    assert response.status_code == 201, response.text
    experiment = wait_finished(tuning, "pushed-ddp")
    assert experiment["status"]["trialsSucceeded"] == 2, experiment["status"]
    for trial in requests.get(f"{tuning}/api/v1/experiments/pushed-ddp/trials", timeout=30).json()["items"]:
        lr = float(trial["spec"]["parameterAssignments"][0]["value"])
        [loss] = trial["status"]["observation"]["metrics"]
        assert float(loss["latest"]) == pytest.approx((lr - 0.2) ** 2)


def wait_finished(tuning: str, name: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        experiment = requests.get(f"{tuning}/api/v1/experiments/{name}", timeout=30).json()
        if condition(experiment, "Succeeded") or condition(experiment, "Failed"):
            return experiment
        time.sleep(0.5)
    raise AssertionError(f"experiment {name} did not finish in {timeout} s: {experiment.get('status')}")


# --- in a cluster: the tuning service creates the job, owned by the Trial --------------------------------------


@pytest.fixture
def cluster_tuning(kube_api, start_tuning):
    """The tuning service as the controller of Experiments (`--runner kubernetes`) on the test API server,
    with the Katib and the training operator's CRDs from the charts."""
    for crd in [*crds().values(), *(yaml.safe_load(path.read_text()) for path in TRAINING_CRDS.glob("*.yaml"))]:
        kube_api.server.create(crd)
    service = start_tuning(env={"POD_NAMESPACE": CLUSTER_NAMESPACE},
                           extra_args=["--runner", "kubernetes", "--watch-namespaces", CLUSTER_NAMESPACE])
    return service, client.CustomObjectsApi(kube_api.api_client())


def wait_for(what: str, probe, timeout: float = 60):
    return polling.wait_for(probe, what, timeout, interval=0.2)


def finish_as_the_operator_would(kube_api, api, job: dict, log: str) -> None:
    """What the training operator and the kubelet write: the master's pod with its log, then Succeeded."""
    name = job["metadata"]["name"]
    labels = {"training.kubeflow.org/job-name": name, "training.kubeflow.org/replica-type": "master",
              "training.kubeflow.org/replica-index": "0", "training.kubeflow.org/job-role": "master"}
    kube_api.server.create({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": f"{name}-master-0", "namespace": CLUSTER_NAMESPACE, "labels": labels},
                            "spec": {"restartPolicy": "OnFailure",
                                     "containers": [{"name": "pytorch", "image": "busybox"}]}})
    kube_api.server.set_pod_log(CLUSTER_NAMESPACE, f"{name}-master-0", log, container="pytorch")
    api.patch_namespaced_custom_object_status("kubeflow.org", "v1", CLUSTER_NAMESPACE, "pytorchjobs", name, {
        "status": {"conditions": [{"type": "Created", "status": "True"}, {"type": "Running", "status": "False"},
                                  {"type": "Succeeded", "status": "True", "reason": "PyTorchJobSucceeded"}]}})


def test_in_a_cluster_the_trial_is_a_pytorchjob_owned_by_its_trial_with_metrics_from_the_masters_log(
        kube_api, cluster_tuning):
    service, api = cluster_tuning
    manifest = pytorch_experiment("cluster-ddp")
    manifest["metadata"]["namespace"] = CLUSTER_NAMESPACE
    manifest["spec"].update(maxTrialCount=1, parallelTrialCount=1)
    api.create_namespaced_custom_object("kubeflow.org", "v1beta1", CLUSTER_NAMESPACE, "experiments", manifest)

    def owned_job():
        jobs = api.list_namespaced_custom_object("kubeflow.org", "v1", CLUSTER_NAMESPACE, "pytorchjobs")["items"]
        return next((job for job in jobs if job["metadata"].get("ownerReferences")), None)

    job = wait_for("PyTorchJob owned by its Trial", owned_job)
    name = job["metadata"]["name"]
    trial = api.get_namespaced_custom_object("kubeflow.org", "v1beta1", CLUSTER_NAMESPACE, "trials", name)
    [owner] = job["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("Trial", name, trial["metadata"]["uid"])
    lr = next(item["value"] for item in trial["spec"]["parameterAssignments"] if item["name"] == "lr")
    for replica in job["spec"]["pytorchReplicaSpecs"].values():
        [container] = replica["template"]["spec"]["containers"]
        assert container["command"][-1] == f"--lr={lr}"
        assert {"name": "KATIB_TRIAL_NAME", "value": name} in container["env"]

    finish_as_the_operator_would(kube_api, api, job, "epoch=0 loss=0.5\nepoch=1 loss=0.25\nauc=0.9\n")
    experiment = wait_for("finished experiment", lambda: condition(service.experiment("cluster-ddp"), "Succeeded")
                          and service.experiment("cluster-ddp"))
    observed = experiment["status"]["currentOptimalTrial"]["observation"]["metrics"][0]
    assert (observed["min"], observed["latest"]) == ("0.25", "0.25")
    assert wait_for("deleted job", lambda: not api.list_namespaced_custom_object(
        "kubeflow.org", "v1", CLUSTER_NAMESPACE, "pytorchjobs")["items"])  # deleted without retain, as Katib does


def test_in_a_cluster_reaching_the_goal_kills_the_other_trial_by_deleting_its_job(kube_api, cluster_tuning):
    service, api = cluster_tuning
    manifest = pytorch_experiment("cluster-goal")
    manifest["metadata"]["namespace"] = CLUSTER_NAMESPACE
    manifest["spec"].update(maxTrialCount=2, parallelTrialCount=2)
    manifest["spec"]["objective"]["goal"] = 0.3
    api.create_namespaced_custom_object("kubeflow.org", "v1beta1", CLUSTER_NAMESPACE, "experiments", manifest)

    def jobs():
        return api.list_namespaced_custom_object("kubeflow.org", "v1", CLUSTER_NAMESPACE, "pytorchjobs")["items"]

    first, second = wait_for("two trial jobs", lambda: len(jobs()) == 2 and jobs())
    finish_as_the_operator_would(kube_api, api, first, "epoch=0 loss=0.25\n")
    experiment = wait_for("finished experiment", lambda: condition(service.experiment("cluster-goal"), "Succeeded")
                          and service.experiment("cluster-goal"))
    assert experiment["status"]["conditions"][-1]["reason"] == "ExperimentGoalReached"
    killed = wait_for("killed trial", lambda: [t for t in service.trials("cluster-goal")
                                               if condition(t, "Killed")])
    assert [t["metadata"]["name"] for t in killed] == [second["metadata"]["name"]]
    assert wait_for("no job left", lambda: not jobs())


def test_a_restarted_service_reattaches_to_the_running_job_by_name(kube_api, cluster_tuning):
    service, api = cluster_tuning
    manifest = pytorch_experiment("cluster-restart")
    manifest["metadata"]["namespace"] = CLUSTER_NAMESPACE
    manifest["spec"].update(maxTrialCount=1, parallelTrialCount=1)
    api.create_namespaced_custom_object("kubeflow.org", "v1beta1", CLUSTER_NAMESPACE, "experiments", manifest)
    [job] = wait_for("the trial's job", lambda: api.list_namespaced_custom_object(
        "kubeflow.org", "v1", CLUSTER_NAMESPACE, "pytorchjobs")["items"])

    service.kill()
    service.start()
    finish_as_the_operator_would(kube_api, api, job, "epoch=0 loss=0.125\n")
    experiment = wait_for("finished experiment", lambda: condition(service.experiment("cluster-restart"), "Succeeded")
                          and service.experiment("cluster-restart"))
    assert experiment["status"]["trials"] == 1  # the same trial, not a re-run
    assert experiment["status"]["currentOptimalTrial"]["bestTrialName"] == job["metadata"]["name"]
