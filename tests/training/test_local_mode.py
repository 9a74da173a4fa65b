"""Local mode: `mlp local up` starts the training operator and writes ONE kubeconfig, whose server (the
tuning service) also answers the training operator's paths; KatibClient and TrainingClient both work
with it unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubeflow.training import TrainingClient

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
