"""preflight's values checks: the environments' values fit together; bad combinations name the key to fix."""

from __future__ import annotations

import pytest
import yaml

from mlplatform.checks.base import FAILED, PASSED, WARNING
from mlplatform.hooks.config import merge_values
from mlplatform.hooks.preflight import check_values
from mlplatform.values.charts import CHARTS_DIR, ENVIRONMENTS, UMBRELLA, environment_values


def release_values(environment: str, **overrides) -> dict:
    """The umbrella's defaults with an environment's values over them, as Helm computes .Values."""
    defaults = yaml.safe_load((CHARTS_DIR / UMBRELLA / "values.yaml").read_text())
    for key in ("pipelineController", "tuningService", "modelServer", "modelRegistry", "minio", "prometheus"):
        chart = {"pipelineController": "pipeline-controller", "tuningService": "tuning-service",
                 "modelServer": "model-server", "modelRegistry": "model-registry"}.get(key, key)
        defaults[key] = merge_values(yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text()), defaults[key])
    values = merge_values(defaults, yaml.safe_load(environment_values(environment).read_text()))
    return merge_values(values, overrides)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_fits_together(environment):
    results = check_values(release_values(environment))
    assert [r.detail for r in results if r.status == FAILED] == []


def test_a_canary_without_models_says_what_to_list():
    values = release_values("dev", modelServer={"canary": {"enabled": True, "models": []}})
    failed = [r for r in check_values(values) if r.status == FAILED]
    assert any("modelServer.canary.models is empty" in r.detail for r in failed)


def test_a_gateway_canary_without_a_gateway_is_refused():
    values = release_values("dev", modelServer={"router": {"type": "gateway-api", "gatewayApi": {"parentRefs": []}},
                                                "canary": {"enabled": True, "models": [{"name": "m", "uri": "s3://m/1"}]}})
    failed = [r.detail for r in check_values(values) if r.status == FAILED]
    assert any("modelServer.router.gatewayApi.parentRefs" in detail for detail in failed)


def test_replicas_on_sqlite_ask_for_postgresql():
    values = release_values("dev", modelRegistry={"replicaCount": 3, "database": {"existingSecret": ""}})
    failed = [r for r in check_values(values) if r.status == FAILED]
    assert [r.component for r in failed] == ["modelRegistry"]
    assert "modelRegistry.database.existingSecret" in failed[0].detail and "PostgreSQL" in failed[0].detail


def test_state_without_a_volume_or_database_would_be_lost():
    values = release_values("dev", pipelineController={"persistence": {"enabled": False},
                                                       "database": {"existingSecret": ""}})
    failed = [r.detail for r in check_values(values) if r.status == FAILED]
    assert any("pipelineController.persistence.enabled is false" in detail for detail in failed)


def test_production_looking_sqlite_is_a_warning():
    values = release_values("dev", tuningService={"pdb": {"enabled": True}, "database": {"existingSecret": ""}})
    warnings = [r for r in check_values(values) if r.status == WARNING]
    assert [r.component for r in warnings] == ["tuningService"]


def test_an_artifact_bucket_missing_from_register_buckets_is_named():
    values = release_values("dev", hooks={"register": {"buckets": ["models"]}})
    failed = [r.detail for r in check_values(values) if r.status == FAILED]
    assert any("modelRegistry.artifacts.bucket 'mlflow' is not in hooks.register.buckets" in d for d in failed)
    assert any("pipelineController.artifacts.bucket 'mlpipeline'" in d for d in failed)


def test_all_good_is_one_passed_line():
    assert [r.status for r in check_values(release_values("dev"))] == [PASSED]
