"""Recurring runs through kfp.Client: periodic and cron triggers, catchup, enable/disable, and a
scheduler that fires each time once, across a controller restart."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from kfp import compiler, dsl

from mlplatform.pipelines.engine.schedule import Cron

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@dsl.component
def tick() -> str:
    return "tick"


@dsl.pipeline(name="recurring")
def recurring_pipeline():
    tick()


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("recurring") / "recurring.yaml"
    compiler.Compiler().compile(recurring_pipeline, str(path))
    return str(path)


def runs_of(controller, recurring_run_id: str) -> list[dict]:
    runs = controller.get("/apis/v2beta1/runs", page_size=100).json().get("runs", [])
    return [run for run in runs if run.get("recurring_run_id") == recurring_run_id]


def wait_for_runs(controller, recurring_run_id: str, count: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(found := runs_of(controller, recurring_run_id)) < count:
        assert time.monotonic() < deadline, f"{len(found)} of {count} runs fired"
        time.sleep(0.3)
    return found


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_periodic_recurring_run_fires_and_stops_when_disabled(controller, package):
    client = controller.client()
    experiment = client.create_experiment("recurring-periodic")
    created = client.create_recurring_run(
        experiment.experiment_id, "every-second", interval_second=1, pipeline_package_path=package
    )
    fired = wait_for_runs(controller, created.recurring_run_id, 2)
    assert all(run["display_name"].startswith("every-second ") for run in fired)
    client.disable_recurring_run(created.recurring_run_id)
    assert client.get_recurring_run(created.recurring_run_id).status == "DISABLED"
    settled = len(runs_of(controller, created.recurring_run_id))
    time.sleep(2.5)
    assert len(runs_of(controller, created.recurring_run_id)) == settled
    listed = client.list_recurring_runs(experiment_id=experiment.experiment_id).recurring_runs
    assert [item.display_name for item in listed] == ["every-second"]
    client.enable_recurring_run(created.recurring_run_id)
    assert client.get_recurring_run(created.recurring_run_id).status == "ENABLED"
    wait_for_runs(controller, created.recurring_run_id, settled + 1)
    client.delete_recurring_run(created.recurring_run_id)
    assert controller.get(f"/apis/v2beta1/recurringruns/{created.recurring_run_id}").status_code == 404


@pytest.mark.slow
def test_catchup_fires_each_missed_time_once_across_a_restart(start_controller, package):
    controller = start_controller()
    client = controller.client()
    experiment = client.create_experiment("recurring-catchup")
    started = rfc3339(datetime.now(UTC) - timedelta(hours=2, minutes=30))
    catching_up = client.create_recurring_run(
        experiment.experiment_id,
        "catchup",
        interval_second=3600,
        start_time=started,
        pipeline_package_path=package,
        max_concurrency=3,
    )
    skipping = client.create_recurring_run(
        experiment.experiment_id,
        "no-catchup",
        interval_second=3600,
        start_time=started,
        no_catchup=True,
        pipeline_package_path=package,
    )
    assert len(wait_for_runs(controller, catching_up.recurring_run_id, 3)) == 3  # start, +1h, +2h
    wait_for_runs(controller, skipping.recurring_run_id, 1)
    controller.stop()
    controller.start()
    time.sleep(2.5)  # several scheduler passes after the restart
    assert len(runs_of(controller, catching_up.recurring_run_id)) == 3
    assert len(runs_of(controller, skipping.recurring_run_id)) == 1


def test_bad_trigger_is_refused_by_name(controller, package):
    body = {
        "display_name": "bad",
        "trigger": {"cron_schedule": {"cron": "0 0 25 * * *"}},
        "pipeline_spec": {"pipelineInfo": {"name": "x"}},
    }
    response = controller.post("/apis/v2beta1/recurringruns", json=body)
    assert response.status_code == 400
    assert "cron" in response.json()["message"] or "pipeline" in response.json()["message"]
    with pytest.raises(Exception, match="hour field '25'"):
        Cron("0 0 25 * * *")


def test_cron_follows_robfig_fields():
    saturday_ten = datetime(2026, 12, 5, 10, tzinfo=UTC).timestamp()
    weekday_nine = Cron("0 0 9 ? * 2-6").next_after(saturday_ten)
    assert datetime.fromtimestamp(weekday_nine, UTC) == datetime(2026, 12, 8, 9, tzinfo=UTC)
    assert Cron("*/15 * * * * *").next_after(saturday_ten) == saturday_ten + 15
