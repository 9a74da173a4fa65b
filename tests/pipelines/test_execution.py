"""Real kfp pipelines, compiled here and run through kfp.Client against a live controller."""

from __future__ import annotations

import pytest

from tests.pipelines import pipelines
from tests.pipelines.controller import tasks_by_name

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def run_func(controller, pipeline, arguments=None, **options) -> dict:
    client = controller.client()
    result = client.create_run_from_pipeline_func(
        pipeline, arguments=arguments or {}, experiment_name="tests", **options
    )
    return controller.wait(result.run_id)


def only(run: dict, name: str) -> dict:
    found = tasks_by_name(run)[name]
    assert len(found) == 1, found
    return found[0]


def test_fraud_detection_pipeline_with_dataset_model_and_metrics(controller):
    client = controller.client()
    result = client.create_run_from_pipeline_func(
        pipelines.fraud_detection, arguments={"rows": 300}, experiment_name="fraud", enable_caching=False
    )
    finished = client.wait_for_run_completion(result.run_id, timeout=120, sleep_duration=1)
    assert finished.state == "SUCCEEDED", finished.error
    names = {task.display_name: task for task in finished.run_details.task_details}
    assert {"preprocess", "train", "evaluate"} <= set(names)
    assert all(names[name].state == "SUCCEEDED" for name in ("preprocess", "train", "evaluate"))

    artifacts = controller.get(f"/apis/v2beta1/runs/{result.run_id}/artifacts").json()["artifacts"]
    by_output = {(a["task_name"], a["output_name"]): a for a in artifacts}
    assert by_output[("preprocess", "transactions")]["type"] == "system.Dataset"
    assert by_output[("preprocess", "transactions")]["metadata"]["rows"] == 300
    assert by_output[("train", "model")]["type"] == "system.Model"
    accuracy = by_output[("evaluate", "metrics")]["metadata"]["accuracy"]
    assert by_output[("evaluate", "metrics")]["type"] == "system.Metrics" and 0.8 < accuracy <= 1.0
    assert 0.8 < by_output[("train", "metrics")]["metadata"]["train_accuracy"] <= 1.0
    run = controller.run_json(result.run_id)
    assert run["pipeline_outputs"]["parameters"]["Output"] == pytest.approx(accuracy)


def test_parameters_of_every_type_reach_the_component_typed(controller):
    run = run_func(
        controller,
        pipelines.every_type,
        {"text": "hi", "count": 3, "ratio": 1, "flag": False, "items": ["a"], "config": {"x": 1}},
    )
    assert run["state"] == "SUCCEEDED", run["error"]
    assert run["pipeline_outputs"]["parameters"]["Output"] == "hi|3|1.0|False|['a']|[('x', 1)]"


@pytest.mark.parametrize("score, branch", [(9, "high"), (5, "medium"), (1, "low")])
def test_if_elif_else_runs_exactly_one_branch(controller, score, branch):
    run = run_func(controller, pipelines.conditions, {"score": score}, enable_caching=False)
    assert run["state"] == "SUCCEEDED", run["error"]
    ran = [
        task
        for task in run["run_details"]["task_details"]
        if task["kind"] == "executor" and task["state"] == "SUCCEEDED"
    ]
    assert [task["parameters"]["inputs"]["message"] for task in ran] == [branch]
    skipped = [task for task in run["run_details"]["task_details"] if task["state"] == "SKIPPED"]
    assert len(skipped) == 2 and all("condition is false" in task["error"]["message"] for task in skipped)


def test_parallel_for_respects_parallelism_and_collects_in_order(controller):
    run = run_func(controller, pipelines.fan_out, enable_caching=False)
    assert run["state"] == "SUCCEEDED", run["error"]
    assert run["pipeline_outputs"]["parameters"]["Output"] == 55
    assert only(run, "merge")["parameters"]["outputs"]["Output"] == "1,2,3"
    squares = tasks_by_name(run)["square"]
    assert len(squares) == 5
    intervals = sorted((t["start_time"], t["end_time"]) for t in squares)
    overlapping = max(sum(1 for start, end in intervals if start <= moment < end) for moment, _ in intervals)
    assert overlapping <= 2, intervals


def test_exit_handler_runs_after_a_failure_and_sees_it(controller):
    run = run_func(controller, pipelines.exit_handler, {"message": "expected failure"}, enable_caching=False)
    assert run["state"] == "FAILED"
    assert "expected failure" in run["error"]["message"]
    assert only(run, "fail")["state"] == "FAILED"
    report = only(run, "report")
    assert report["state"] == "SUCCEEDED"
    assert report["parameters"]["outputs"]["Output"] == "FAILED"
    logs = controller.get(
        f"/apis/v2beta1/runs/{run['run_id']}/tasks/{only(run, 'fail')['task_id']}/logs"
    ).text
    assert "RuntimeError: expected failure" in logs


def test_flaky_task_is_retried_with_backoff_until_it_succeeds(controller, tmp_path):
    counter = tmp_path / "attempts"
    run = run_func(controller, pipelines.retries, {"counter_file": str(counter), "failures": 2})
    assert run["state"] == "SUCCEEDED", run["error"]
    task = only(run, "flaky")
    assert task["attempts"] == 3 and task["parameters"]["outputs"]["Output"] == 3
    failures = [item for item in task["state_history"] if item["state"] == "FAILED"]
    assert len(failures) == 2 and "retry in" in failures[0]["error"]["message"]


def test_retries_run_out_and_the_run_fails(controller, tmp_path):
    run = run_func(controller, pipelines.retries, {"counter_file": str(tmp_path / "n"), "failures": 9})
    assert run["state"] == "FAILED"
    assert only(run, "flaky")["attempts"] == 4
    assert "flaky failure on attempt 4" in run["error"]["message"]
    task_error = only(run, "flaky")["error"]["message"]   # the task says why: exit code, then its output's end
    assert "Error: exited with code 1" in task_error and "flaky failure on attempt 4" in task_error
    assert "Lost" not in task_error


def test_identical_tasks_are_served_from_the_cache(controller):
    first = run_func(controller, pipelines.cacheable, {"x": 21})
    second = run_func(controller, pipelines.cacheable, {"x": 21})
    assert first["state"] == second["state"] == "SUCCEEDED"
    assert second["pipeline_outputs"]["parameters"]["Output"] == 84
    originals = {
        t["task_id"] for t in tasks_by_name(first)["slow-double"] + tasks_by_name(first)["slow-double-2"]
    }
    reused = tasks_by_name(second)["slow-double"] + tasks_by_name(second)["slow-double-2"]
    assert all(task["cached"] and task["execution_id"] in originals for task in reused)
    assert all(
        task["execution_id"] != task["task_id"] and task["executor_detail"]["main_job"] == ""
        for task in reused
    )
    third = run_func(controller, pipelines.cacheable, {"x": 21}, enable_caching=False)
    assert not any(task["cached"] for task in third["run_details"]["task_details"])


def test_tasks_with_dataset_model_and_metrics_outputs_are_cached_too(controller):
    first = run_func(controller, pipelines.fraud_detection, {"rows": 123, "seed": 99})
    second = run_func(controller, pipelines.fraud_detection, {"rows": 123, "seed": 99})
    assert first["state"] == second["state"] == "SUCCEEDED"
    executors = [task for task in second["run_details"]["task_details"] if task["kind"] == "executor"]
    assert len(executors) == 3 and all(task["cached"] for task in executors)
    assert second["pipeline_outputs"] == first["pipeline_outputs"]
    artifacts = controller.get(f"/apis/v2beta1/runs/{second['run_id']}/artifacts").json()["artifacts"]
    assert {a["uri"].split("/")[-3] for a in artifacts} == {first["run_id"]}  # the first run's files


def test_nested_pipeline_and_pipeline_outputs(controller):
    run = run_func(controller, pipelines.outer, {"x": 4}, enable_caching=False)
    assert run["state"] == "SUCCEEDED", run["error"]
    assert run["pipeline_outputs"]["parameters"]["Output"] == "inner-4:16"
    nested = only(run, "inner")
    assert nested["kind"] == "dag"
    assert nested["parameters"]["outputs"] == {"doubled": 16, "label": "inner-4"}
    assert only(run, "square")["parent_task_id"] == nested["task_id"]


def test_container_component_runs_its_own_command(controller):
    run = run_func(controller, pipelines.container_pipeline, {"name": "kfp"}, enable_caching=False)
    assert run["state"] == "SUCCEEDED", run["error"]
    assert run["pipeline_outputs"]["parameters"]["Output"] == "hello kfp"


def test_loop_over_structs_one_of_and_importer(controller, tmp_path):
    source = tmp_path / "source.txt"
    source.write_text("imported text")
    run = run_func(
        controller,
        pipelines.structs_oneof_importer,
        {"source_uri": str(source), "heads": False},
        enable_caching=False,
    )
    assert run["state"] == "SUCCEEDED", run["error"]
    labels = sorted(t["parameters"]["outputs"]["Output"] for t in tasks_by_name(run)["label"])
    assert labels == ["a=1", "b=2"]
    assert only(run, "echo-3")["parameters"]["inputs"]["message"] == "tails"
    assert only(run, "importer")["outputs"] == {"artifact": {"artifact_ids": [str(source)]}}
    assert run["pipeline_outputs"]["parameters"]["Output"] == "imported text"
