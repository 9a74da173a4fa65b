"""The local runner's slots by CPU request (issue 12, item 3), through kfp.Client.

The shared controller has 4 slots. Each task records when its own code ran (the run's task times are
when the controller submitted it, not when the runner gave it slots).
"""

import pytest
from kfp import dsl

from tests.pipelines.conformance.helpers import outputs_of, run_pipeline, succeeded, task

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@dsl.component
def busy(seconds: float) -> str:
    import time

    start = time.time()
    time.sleep(seconds)
    return f"{start} {time.time()}"


@dsl.pipeline
def two_taking_every_slot():
    busy(seconds=1.5).set_cpu_request("4")
    busy(seconds=1.5).set_cpu_request("16")


@dsl.pipeline
def two_taking_one_slot():
    busy(seconds=3.0).set_cpu_request("500m")
    busy(seconds=3.0).set_cpu_request("1")


# the tasks are "busy" and "busy-2", as kfp names them


def span(run: dict, name: str) -> tuple[float, float]:
    start, end = outputs_of(run, name)["Output"].split()
    return float(start), float(end)


def overlap(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def test_tasks_asking_for_every_slot_run_one_at_a_time(controller):
    run = succeeded(run_pipeline(controller, two_taking_every_slot))
    whole, capped = span(run, "busy"), span(run, "busy-2")
    assert not overlap(whole, capped), (whole, capped)
    log = controller.task_log(run["run_id"], task(run, "busy-2")["task_id"])
    assert "the CPU request 16 asks for 16 slots but the local runner has 4" in log, log


def test_one_slot_tasks_run_together(controller):
    run = succeeded(run_pipeline(controller, two_taking_one_slot))
    assert overlap(span(run, "busy"), span(run, "busy-2"))
