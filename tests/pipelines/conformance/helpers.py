"""Running a kfp pipeline through kfp.Client against the shared controller and reading its tasks."""

from __future__ import annotations

from tests.pipelines.controller import Controller, tasks_by_name


def run_pipeline(controller: Controller, pipeline, arguments: dict | None = None, **options) -> dict:
    """The finished run's JSON (run_details with every task), caching off unless asked for."""
    options.setdefault("enable_caching", False)
    result = controller.client().create_run_from_pipeline_func(
        pipeline, arguments=arguments or {}, experiment_name="conformance", **options
    )
    return controller.wait(result.run_id)


def succeeded(run: dict) -> dict:
    assert run["state"] == "SUCCEEDED", run.get("error")
    return run


def task(run: dict, name: str) -> dict:
    """The one task called `name` (its inputs and outputs under "parameters")."""
    found = tasks_by_name(run)[name]
    assert len(found) == 1, found
    return found[0]


def outputs_of(run: dict, name: str) -> dict:
    return task(run, name)["parameters"]["outputs"]


def inputs_of(run: dict, name: str) -> dict:
    return task(run, name)["parameters"]["inputs"]
