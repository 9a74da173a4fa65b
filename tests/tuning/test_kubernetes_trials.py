"""Trials as Kubernetes Jobs: the real tuning service with `--runner kubernetes` against the test API server.

The server runs each Job's container command as a local process (`run_jobs`), so a trial's metrics come
from its pod's log exactly as on a cluster.
"""

from __future__ import annotations

import threading

import pytest

from tests.tuning.helpers import BRANIN, OBJECTIVES, assignments, katib_yaml, load, metric, trial_state

NAMESPACE = "default"
IMAGE = "docker.io/library/python:3.11-slim"


def branin_jobs(name: str, trials: int, script: str = "branin.py", **spec) -> dict:
    """Katib's Branin experiment (random search) in the service's namespace, running `script`."""
    manifest = load(katib_yaml(BRANIN, name=name, algorithm="random", trials=trials, settings=""))
    del manifest["metadata"]["namespace"]
    manifest["spec"].update(spec)
    [container] = manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    container["command"][1] = str(OBJECTIVES / script)
    return manifest


@pytest.fixture
def kubernetes_tuning(kube_api, start_tuning):
    kube_api.server.run_jobs = True
    return start_tuning(env={"POD_NAMESPACE": NAMESPACE}, extra_args=["--runner", "kubernetes"])


def trial_jobs(kube_api, experiment: str) -> list[dict]:
    return [
        job
        for job in kube_api.server.objects("batch/v1", "Job", NAMESPACE)
        if job["metadata"].get("labels", {}).get("katib.kubeflow.org/experiment") == experiment
    ]


class JobWatcher:
    """Records every trial Job of an experiment while it exists (the service deletes finished trial Jobs,
    as Katib does without `retain`), and how many existed at once."""

    def __init__(self, kube_api, experiment: str):
        self.kube_api, self.experiment = kube_api, experiment
        self.seen: dict[str, dict] = {}
        self.most_at_once = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _watch(self):
        while not self._stop.wait(0.02):
            jobs = trial_jobs(self.kube_api, self.experiment)
            self.most_at_once = max(self.most_at_once, len(jobs))
            for job in jobs:
                self.seen[job["metadata"]["labels"]["katib.kubeflow.org/trial"]] = job


def test_each_trial_is_one_job_with_its_parameters_and_its_metrics_come_from_the_pod_log(
    kube_api, kubernetes_tuning
):
    with JobWatcher(kube_api, "branin-jobs") as watcher:
        kubernetes_tuning.create(branin_jobs("branin-jobs", trials=3, parallelTrialCount=2))
        experiment = kubernetes_tuning.wait_finished("branin-jobs", timeout=120)
    assert experiment["status"]["trialsSucceeded"] == 3, experiment["status"]

    trials = kubernetes_tuning.trials("branin-jobs")
    jobs = watcher.seen
    assert set(jobs) == {trial["metadata"]["name"] for trial in trials}
    assert 1 <= watcher.most_at_once <= 2  # parallelTrialCount
    assert trial_jobs(kube_api, "branin-jobs") == []  # finished trial Jobs are deleted, as Katib does
    for trial in trials:
        assert trial_state(trial) == "Succeeded"
        pod = jobs[trial["metadata"]["name"]]["spec"]["template"]["spec"]
        container = next(item for item in pod["containers"] if item["name"] == "training-container")
        values = assignments(trial)
        assert container["image"] == IMAGE
        assert container["command"][2:] == [f"--x1={values['x1']}", f"--x2={values['x2']}"]
        assert pod["restartPolicy"] == "Never"

    optimal = experiment["status"]["currentOptimalTrial"]
    best = min(float(metric(trial["status"]["observation"], "loss")) for trial in trials)
    assert float(metric(optimal["observation"], "loss")) == pytest.approx(best)


def test_a_trial_job_that_never_prints_the_metric_fails_as_metrics_unavailable(kube_api, kubernetes_tuning):
    with JobWatcher(kube_api, "silent-jobs") as watcher:
        kubernetes_tuning.create(branin_jobs("silent-jobs", trials=1, script="silent.py", maxFailedTrialCount=0))
        experiment = kubernetes_tuning.wait_finished("silent-jobs", timeout=90)

    [trial] = kubernetes_tuning.trials("silent-jobs")
    unavailable = next(item for item in trial["status"]["conditions"] if item["type"] == "MetricsUnavailable")
    assert unavailable["reason"] == "MetricsUnavailable"
    assert experiment["status"]["trialsFailed"] == 0 and experiment["status"]["trialMetricsUnavailable"] == 1
    assert list(watcher.seen) == [trial["metadata"]["name"]]  # one Job, not retried


def test_the_file_collector_gets_an_empty_dir_at_the_files_directory(kube_api, kubernetes_tuning, tmp_path):
    """Katib's emptyDir per trial pod: the Job mounts one at the metrics file's directory, and the file is
    read from the pod's log (the wrapper prints it), so nothing needs sidecar privileges."""
    directory = tmp_path / "katib"  # on the test server the Job's command runs on this machine
    manifest = branin_jobs("file-jobs", trials=1, script="to_file.py")
    [container] = manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    container["command"][2:] = ["--lr=${trialParameters.firstCoordinate}", f"--path={directory}/mnist.json",
                                "--format=json"]
    del manifest["spec"]["trialTemplate"]["trialParameters"][1]  # x2 is not used here
    manifest["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "File"},
        "source": {"fileSystemPath": {"path": f"{directory}/mnist.json", "kind": "File", "format": "JSON"}},
    }
    with JobWatcher(kube_api, "file-jobs") as watcher:
        kubernetes_tuning.create(manifest)
        experiment = kubernetes_tuning.wait_finished("file-jobs", timeout=90)
    assert experiment["status"]["trialsSucceeded"] == 1, experiment["status"]
    [trial] = kubernetes_tuning.trials("file-jobs")
    x1 = float(assignments(trial)["x1"])
    assert float(metric(trial["status"]["observation"], "loss")) == pytest.approx((x1 - 0.3) ** 2 + 1 / 3)
    pod = watcher.seen[trial["metadata"]["name"]]["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "mlp-metrics"]
    assert volume == {"name": "mlp-metrics", "emptyDir": {}}
    [main] = pod["containers"]
    assert {"name": "mlp-metrics", "mountPath": str(directory)} in main["volumeMounts"]
    assert not any(c.get("securityContext", {}).get("privileged") for c in pod["containers"])
