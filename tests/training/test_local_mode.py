"""Local mode: `mlp local up` starts the training operator and writes ONE kubeconfig, whose server (the
tuning service) also answers the training operator's paths; KatibClient and TrainingClient both work
with it unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml
from kubeflow.training import TrainingClient

from mlplatform.kubeapi.kubeconfig import write_kubeconfig
from mlplatform.net import free_port
from tests.support.service_process import ServiceProcess
from tests.training.helpers import pytorchjob, script
from tests.training.test_training_client import model
from tests.tuning.test_katib_sdk import katib_sdk, manifest


@pytest.mark.slow
def test_katib_client_and_training_client_share_local_modes_one_kubeconfig(local_platform_factory):
    pytest.importorskip("torch", reason="the [training] extra: pip install torch (CPU)")
    katib = katib_sdk()
    platform = local_platform_factory(components=("tuning-service", "training-operator"))
    config = Path(platform.endpoints.extra["kubeconfig"])
    clusters = yaml.safe_load(config.read_text())["clusters"]
    assert [c["cluster"]["server"] for c in clusters] == [platform.url("tuning-service").rstrip("/")]
    assert platform.url("training-operator")

    sdk = TrainingClient(config_file=str(config), namespace="default")
    sdk.create_job(job=model(pytorchjob("local-allreduce", script("allreduce.py"))))
    katib_client = katib.KatibClient(config_file=str(config), namespace="kubeflow")
    katib_client.create_experiment(manifest("local-both", trials=1, seconds=0))

    sdk.wait_for_job_conditions("local-allreduce", wait_timeout=120, polling_interval=1)
    logs, _ = sdk.get_job_logs("local-allreduce", follow=True)
    assert "all-reduce sum 3" in logs["local-allreduce-master-0"]
    katib_client.wait_for_experiment_condition("local-both", timeout=120, polling_interval=1)
    sdk.delete_job("local-allreduce")
    katib_client.delete_experiment("local-both")


@pytest.mark.slow
def test_the_tuning_service_forwards_the_training_operators_paths(training, tmp_path):
    """What local mode wires: `mlp serve tuning --training-url` answers kubeflow.org/v1 and the pods paths
    through the pass-through; a training operator that is gone is a 503 Status naming it."""
    tuning = ServiceProcess("tuning", tmp_path / "tuning", args=["--training-url", training.url]).start()
    gone = ServiceProcess("tuning", tmp_path / "tuning-alone", args=["--training-url", f"http://127.0.0.1:{free_port()}"])
    try:
        config = write_kubeconfig(tmp_path / "kubeconfig", tuning.url)
        sdk = TrainingClient(config_file=str(config), namespace="default")
        sdk.create_job(job=model(pytorchjob("forwarded", ["/bin/sh", "-c", "echo hello from rank $RANK"])))
        sdk.wait_for_job_conditions("forwarded", wait_timeout=60, polling_interval=1)
        assert sorted(sdk.get_job_pod_names("forwarded")) == ["forwarded-master-0", "forwarded-worker-0"]
        assert "hello from rank 0" in sdk.get_job_logs("forwarded", follow=True)[0]["forwarded-master-0"]
        assert requests.get(f"{tuning.url}/apis/kubeflow.org/v1", timeout=10).json()["groupVersion"] == "kubeflow.org/v1"
        kubeflow = requests.get(f"{tuning.url}/apis", timeout=10).json()["groups"][0]   # both services' versions
        assert [v["version"] for v in kubeflow["versions"]] == ["v1", "v1beta1"]
        assert requests.get(f"{tuning.url}/api", timeout=10).json()["versions"] == ["v1"]
        assert requests.get(f"{tuning.url}/apis/kubeflow.org/v1beta1", timeout=10).json()["groupVersion"] == \
            "kubeflow.org/v1beta1"   # still the tuning service's own
        sdk.delete_job("forwarded")
        gone.start()
        answer = requests.get(f"{gone.url}/apis/kubeflow.org/v1/namespaces/default/pytorchjobs", timeout=30)
        assert answer.status_code == 503 and answer.json()["reason"] == "ServiceUnavailable"
        assert "did not answer" in answer.json()["message"]
        groups = requests.get(f"{gone.url}/apis", timeout=30).json()["groups"]   # discovery: its own groups only
        assert [(g["name"], [v["version"] for v in g["versions"]]) for g in groups] == [("kubeflow.org", ["v1beta1"])]
        assert requests.get(f"{gone.url}/api", timeout=30).json()["versions"] == []
    finally:
        tuning.stop()
        gone.stop()
