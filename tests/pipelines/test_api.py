"""The KFP v2beta1 surface through kfp.Client: experiments, pipelines and versions, runs and their
lifecycle (list, filter, page, terminate, retry, delete), and the operational endpoints."""

from __future__ import annotations

import json
import time

import pytest
from kfp_server_api.exceptions import ApiException

from tests.pipelines import pipelines

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def equals(key: str, value: str) -> str:
    return json.dumps({"predicates": [{"operation": 1, "key": key, "stringValue": value}]})


def test_healthz_readyz_metrics(controller):
    assert controller.client().get_kfp_healthz().multi_user is False
    assert controller.get("/readyz").status_code == 200
    metrics = controller.get("/metrics").text
    for name in (
        "mlp_pipeline_runs",
        "mlp_pipeline_tasks",
        "mlp_pipeline_queue_depth",
        "mlp_pipeline_task_duration_seconds_bucket",
    ):
        assert name in metrics


def test_experiments_create_get_list(controller):
    client = controller.client()
    created = client.create_experiment("api-experiment", description="for the API test")
    assert client.create_experiment("api-experiment").experiment_id == created.experiment_id  # get-or-create
    assert client.get_experiment(experiment_id=created.experiment_id).display_name == "api-experiment"
    assert client.get_experiment(experiment_name="api-experiment").experiment_id == created.experiment_id
    listed = client.list_experiments(filter=equals("display_name", "api-experiment"))
    assert [e.experiment_id for e in listed.experiments] == [created.experiment_id]
    duplicate = controller.post("/apis/v2beta1/experiments", json={"display_name": "api-experiment"})
    assert duplicate.status_code == 409


def test_pipelines_and_versions_upload_get_list_run_delete(controller, tmp_path):
    client = controller.client()
    package = pipelines.compile_to(pipelines.cacheable, tmp_path)
    pipeline = client.upload_pipeline(package, pipeline_name="api-cacheable", description="doubles twice")
    assert client.get_pipeline(pipeline.pipeline_id).display_name == "api-cacheable"
    assert client.get_pipeline_id("api-cacheable") == pipeline.pipeline_id
    version = client.upload_pipeline_version(
        package, pipeline_version_name="v2", pipeline_id=pipeline.pipeline_id
    )
    fetched = client.get_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
    assert fetched.display_name == "v2" and fetched.pipeline_spec["pipelineInfo"]["name"] == "cacheable"
    versions = client.list_pipeline_versions(pipeline.pipeline_id, page_size=1)
    assert versions.total_size == 2 and len(versions.pipeline_versions) == 1 and versions.next_page_token
    rest = client.list_pipeline_versions(
        pipeline.pipeline_id, page_token=versions.next_page_token, page_size=1
    )
    assert {v.display_name for v in versions.pipeline_versions + rest.pipeline_versions} == {
        "api-cacheable",
        "v2",
    }
    with pytest.raises(ApiException) as raised:
        client.upload_pipeline(package, pipeline_name="api-cacheable")
    assert raised.value.status == 409

    experiment = client.create_experiment("api-versions")
    run = client.run_pipeline(
        experiment.experiment_id,
        "from a version",
        params={"x": 5},
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
    )
    finished = client.wait_for_run_completion(run.run_id, timeout=60, sleep_duration=1)
    assert finished.state == "SUCCEEDED"
    assert finished.pipeline_version_reference.pipeline_version_id == version.pipeline_version_id
    assert controller.run_json(run.run_id)["pipeline_outputs"]["parameters"]["Output"] == 20

    with pytest.raises(ApiException) as raised:
        client.delete_pipeline(pipeline.pipeline_id)  # KFP: versions first, unless cascade
    assert raised.value.status == 409 and "version" in raised.value.body
    for item in client.list_pipeline_versions(pipeline.pipeline_id, page_size=10).pipeline_versions:
        client.delete_pipeline_version(pipeline.pipeline_id, item.pipeline_version_id)
    client.delete_pipeline(pipeline.pipeline_id)
    assert client.get_pipeline_id("api-cacheable") is None
    assert client.get_run(run.run_id).state == "SUCCEEDED"  # runs keep their own copy of the IR


def test_runs_list_filter_sort_and_page(controller):
    client = controller.client()
    experiment = client.create_experiment("api-listing")
    ids = [
        client.create_run_from_pipeline_func(
            pipelines.conditions,
            arguments={"score": score},
            run_name=f"listing-{score}",
            experiment_id=experiment.experiment_id,
        ).run_id
        for score in (1, 5, 9)
    ]
    for run_id in ids:
        controller.wait(run_id)
    page = client.list_runs(experiment_id=experiment.experiment_id, page_size=2, sort_by="display_name desc")
    assert page.total_size == 3 and [r.display_name for r in page.runs] == ["listing-9", "listing-5"]
    rest = client.list_runs(
        experiment_id=experiment.experiment_id,
        page_size=2,
        sort_by="display_name desc",
        page_token=page.next_page_token,
    )
    assert [r.display_name for r in rest.runs] == ["listing-1"] and not rest.next_page_token
    named = client.list_runs(filter=equals("display_name", "listing-5"))
    assert [r.run_id for r in named.runs] == [ids[1]]
    succeeded = client.list_runs(experiment_id=experiment.experiment_id, filter=equals("state", "SUCCEEDED"))
    assert succeeded.total_size == 3


def test_terminate_retry_and_delete(controller, tmp_path):
    client = controller.client()
    started = client.create_run_from_pipeline_func(
        pipelines.sleepy_chain, arguments={"seconds": 20}, experiment_name="tests"
    )
    deadline = time.monotonic() + 30
    while controller.run_json(started.run_id)["state"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    client.terminate_run(started.run_id)
    terminated = controller.wait(started.run_id, timeout=30)
    assert terminated["state"] == "CANCELED"
    assert {t["state"] for t in terminated["run_details"]["task_details"]} <= {"CANCELED"}

    counter = tmp_path / "attempts"
    failing = client.create_run_from_pipeline_func(
        pipelines.retries, experiment_name="tests", arguments={"counter_file": str(counter), "failures": 4}
    )
    assert controller.wait(failing.run_id)["state"] == "FAILED"  # 4 failures > 3 retries
    client.retry_run(failing.run_id) if hasattr(
        client, "retry_run"
    ) else client._run_api.run_service_retry_run(run_id=failing.run_id)
    retried = controller.wait(failing.run_id)
    assert retried["state"] == "SUCCEEDED", retried["error"]
    assert retried["pipeline_outputs"] == {"parameters": {}, "artifacts": {}}
    with pytest.raises(ApiException) as raised:
        client._run_api.run_service_retry_run(run_id=failing.run_id)
    assert raised.value.status == 409

    client.delete_run(failing.run_id)
    with pytest.raises(ApiException) as raised:
        client.get_run(failing.run_id)
    assert raised.value.status == 404
