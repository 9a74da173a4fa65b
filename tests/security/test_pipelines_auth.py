"""Multi-user mode of the pipeline controller (issue 14): the real `mlp serve pipelines --auth-mode token`,
every allow and deny path of the KFP v2beta1 API (runs, experiments, pipelines, recurring runs in the
namespace of their experiment or their own), lists filtered by namespace, kfp.Client with existing_token;
and `--auth-mode kubernetes` against the test API server, where a viewer may read but not create."""

from __future__ import annotations

import pytest
import yaml
from kfp import Client
from kfp_server_api.exceptions import ApiException

from tests.pipelines import pipelines
from tests.security.multiuser import call, kubernetes_mode, running, token_mode

API = "/apis/v2beta1"


def created(response, key: str) -> str:
    assert response.status_code == 200, response.text
    return response.json()[key]


def new_experiment(service, token: str, name: str, namespace: str) -> str:
    body = {"display_name": name, "namespace": namespace}
    return created(call(service, "POST", f"{API}/experiments", token, json=body), "experiment_id")


def new_run(service, token: str, experiment_id: str, spec: dict) -> str:
    body = {"display_name": "run", "experiment_id": experiment_id, "pipeline_spec": spec,
            "runtime_config": {"parameters": {"score": 1}}}
    return created(call(service, "POST", f"{API}/runs", token, json=body), "run_id")


def new_pipeline(service, token: str, name: str, namespace: str, package: str):
    with open(package, "rb") as handle:
        return call(service, "POST", f"{API}/pipelines/upload", token,
                    params={"name": name, "namespace": namespace}, files={"uploadfile": handle})


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> str:
    return pipelines.compile_to(pipelines.conditions, tmp_path_factory.mktemp("ir"))


@pytest.fixture(scope="module")
def spec(package) -> dict:
    with open(package) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running(token_mode("pipelines", tmp_path_factory.mktemp("pipelines-auth"))) as service:
        yield service


@pytest.fixture(scope="module")
def objects(service, spec, package) -> dict:
    """alice owns an experiment, a run and a pipeline (with its version) in team-a; bob an experiment, a run
    and a recurring run in team-b."""
    exp_a = new_experiment(service, "alice-token", "exp-a", "team-a")
    exp_b = new_experiment(service, "bob-token", "exp-b", "team-b")
    pipe_a = created(new_pipeline(service, "alice-token", "pipe-a", "team-a", package), "pipeline_id")
    versions = call(service, "GET", f"{API}/pipelines/{pipe_a}/versions", "alice-token").json()["pipeline_versions"]
    hourly = {"display_name": "hourly", "experiment_id": exp_b, "pipeline_spec": spec,
              "trigger": {"periodic_schedule": {"interval_second": 3600}}, "mode": "DISABLE"}
    return {"exp_a": exp_a, "exp_b": exp_b, "run_a": new_run(service, "alice-token", exp_a, spec),
            "run_b": new_run(service, "bob-token", exp_b, spec), "pipe_a": pipe_a,
            "ver_a": versions[0]["pipeline_version_id"],
            "rec_b": created(call(service, "POST", f"{API}/recurringruns", "bob-token", json=hourly), "recurring_run_id")}


MATRIX = [
    # method, path, token, status
    ("GET", "/experiments?namespace=team-a", None, 401),                 # no token
    ("GET", "/runs/{run_a}", None, 401),
    ("DELETE", "/pipelines/{pipe_a}", "forged-token", 401),              # a token nobody issued
    ("GET", "/experiments?namespace=team-a", "alice-token", 200),        # the owner
    ("GET", "/experiments/{exp_a}", "alice-token", 200),
    ("GET", "/runs?namespace=team-a", "alice-token", 200),
    ("GET", "/runs?experiment_id={exp_a}", "alice-token", 200),
    ("GET", "/runs/{run_a}", "alice-token", 200),
    ("GET", "/runs/{run_a}/artifacts", "alice-token", 200),
    ("GET", "/recurringruns?namespace=team-a", "alice-token", 200),
    ("GET", "/pipelines?namespace=team-a", "alice-token", 200),
    ("GET", "/pipelines/{pipe_a}", "alice-token", 200),
    ("GET", "/pipelines/{pipe_a}/versions", "alice-token", 200),
    ("GET", "/pipelines", "bob-token", 200),                             # the shared pipelines
    ("GET", "/experiments?namespace=team-b", "alice-token", 403),        # another namespace
    ("GET", "/experiments/{exp_b}", "alice-token", 403),
    ("DELETE", "/experiments/{exp_b}", "alice-token", 403),
    ("POST", "/experiments/{exp_b}:archive", "alice-token", 403),
    ("GET", "/runs?namespace=team-b", "alice-token", 403),
    ("GET", "/runs?experiment_id={exp_b}", "alice-token", 403),
    ("GET", "/runs/{run_b}", "alice-token", 403),
    ("POST", "/runs/{run_b}:terminate", "alice-token", 403),
    ("DELETE", "/runs/{run_b}", "alice-token", 403),
    ("GET", "/runs/{run_b}/artifacts", "alice-token", 403),
    ("GET", "/runs/{run_b}/tasks/any-task/artifacts/any-output/content", "alice-token", 403),
    ("GET", "/pipelines/{pipe_a}", "bob-token", 403),
    ("GET", "/pipelines?namespace=team-a", "bob-token", 403),
    ("DELETE", "/pipelines/{pipe_a}", "bob-token", 403),
    ("GET", "/recurringruns/{rec_b}", "bob-token", 200),                 # a recurring run: its experiment's
    ("GET", "/recurringruns/{rec_b}", "alice-token", 403),
    ("POST", "/recurringruns/{rec_b}:enable", "alice-token", 403),
    ("DELETE", "/recurringruns/{rec_b}", "alice-token", 403),
    ("GET", "/pipelines/{pipe_a}/versions/{ver_a}", "alice-token", 200),  # a version: its pipeline's
    ("GET", "/pipelines/{pipe_a}/versions/{ver_a}", "bob-token", 403),
    ("DELETE", "/pipelines/{pipe_a}/versions/{ver_a}", "bob-token", 403),
    ("GET", "/pipelines/names/pipe-a?namespace=team-a", "alice-token", 200),
    ("GET", "/pipelines/names/pipe-a?namespace=team-a", "bob-token", 403),
    ("GET", "/experiments", "alice-token", 400),                         # a list names its namespace
    ("GET", "/runs", "alice-token", 400),
    ("GET", "/runs/no-such-run", "alice-token", 404),                    # exists nowhere
    ("GET", "/runs/{run_a}/tasks/no-such-task/artifacts/out/content", "alice-token", 404),
    ("GET", "/experiments/no-such-experiment", "alice-token", 404),
    ("GET", "/recurringruns/no-such-recurring-run", "alice-token", 404),
    ("DELETE", "/pipelines/no-such-pipeline", "alice-token", 404),
    ("GET", "/runs/no-such-run", "bob-token", 404),
]


@pytest.mark.parametrize("method, path, token, status", MATRIX)
def test_allow_and_deny(service, objects, method, path, token, status):
    response = call(service, method, API + path.format(**objects), token)
    assert response.status_code == status, response.text
    if status == 403:
        user = token.split("-")[0]
        assert f"{user} may not " in response.json()["message"] and ".pipelines.kubeflow.org in namespace team-" \
            in response.json()["message"], response.text


def test_operational_endpoints_stay_open(service):
    for path in (f"{API}/healthz", "/healthz", "/readyz", "/metrics"):
        assert call(service, "GET", path).status_code == 200, path
    assert call(service, "GET", f"{API}/healthz").json()["multi_user"] is True


def test_creating_in_another_namespace_is_refused(service, objects, spec, package):
    refused = call(service, "POST", f"{API}/experiments", "alice-token", json={"display_name": "x", "namespace": "team-b"})
    assert refused.status_code == 403
    assert refused.json()["message"] == "alice may not create experiments.pipelines.kubeflow.org in namespace team-b"
    run = {"display_name": "x", "experiment_id": objects["exp_b"], "pipeline_spec": spec}
    assert call(service, "POST", f"{API}/runs", "alice-token", json=run).status_code == 403
    recurring = {**run, "trigger": {"periodic_schedule": {"interval_second": 3600}}}
    assert call(service, "POST", f"{API}/recurringruns", "alice-token", json=recurring).status_code == 403
    assert new_pipeline(service, "alice-token", "p-b", "team-b", package).status_code == 403
    assert new_pipeline(service, "alice-token", "p-shared", "", package).status_code == 403   # cluster-wide only
    no_experiment = call(service, "POST", f"{API}/runs", "alice-token", json={"pipeline_spec": spec})
    assert no_experiment.status_code == 400 and "experiment_id" in no_experiment.json()["message"]


def test_the_owner_creates_lists_gets_and_deletes(service, objects, spec):
    experiment = new_experiment(service, "alice-token", "lifecycle", "team-a")
    run = new_run(service, "alice-token", experiment, spec)
    listed = call(service, "GET", f"{API}/runs", "alice-token", params={"namespace": "team-a"}).json()["runs"]
    assert {run, objects["run_a"]} <= {item["run_id"] for item in listed}
    assert objects["run_b"] not in {item["run_id"] for item in listed}              # filtered
    experiments = call(service, "GET", f"{API}/experiments?namespace=team-a", "alice-token").json()["experiments"]
    assert {item["namespace"] for item in experiments} == {"team-a"}
    assert call(service, "GET", f"{API}/runs/{run}", "alice-token").json()["experiment_id"] == experiment
    assert call(service, "DELETE", f"{API}/runs/{run}", "alice-token").status_code == 200
    assert call(service, "DELETE", f"{API}/experiments/{experiment}", "alice-token").status_code == 200


def test_kfp_client_with_existing_token(service, objects):
    alice = Client(host=service.url, namespace="team-a", existing_token="alice-token")
    experiment = alice.create_experiment("kfp-experiment", namespace="team-a")
    assert experiment.namespace == "team-a"
    result = alice.create_run_from_pipeline_func(pipelines.conditions, arguments={"score": 2},
                                                 experiment_name="kfp-experiment", namespace="team-a")
    assert alice.get_run(result.run_id).experiment_id == experiment.experiment_id
    listed = alice.list_runs(namespace="team-a", page_size=100).runs
    assert result.run_id in {run.run_id for run in listed}
    assert objects["run_b"] not in {run.run_id for run in listed}
    with pytest.raises(ApiException) as refused:
        alice.create_experiment("kfp-elsewhere", namespace="team-b")
    assert refused.value.status == 403
    with pytest.raises(ApiException) as foreign:
        alice.get_run(objects["run_b"])
    assert foreign.value.status == 403


def refused_status(attempt) -> int:
    with pytest.raises(ApiException) as refused:
        attempt()
    return refused.value.status


def test_kfp_client_across_namespaces_gets_403_and_unknown_ids_404(service, objects):
    """Runs, experiments and pipelines of a namespace the caller may not access: 403 on get and delete (the
    object is left alone); an id that exists nowhere: 404; the owner's own objects: found."""
    alice = Client(host=service.url, namespace="team-a", existing_token="alice-token")
    bob = Client(host=service.url, namespace="team-b", existing_token="bob-token")
    denied = {
        "get run": lambda: alice.get_run(objects["run_b"]),
        "delete run": lambda: alice.delete_run(objects["run_b"]),
        "get experiment": lambda: alice.get_experiment(experiment_id=objects["exp_b"]),
        "delete experiment": lambda: alice.delete_experiment(objects["exp_b"]),
        "get pipeline": lambda: bob.get_pipeline(objects["pipe_a"]),
        "delete pipeline": lambda: bob.delete_pipeline(objects["pipe_a"]),
    }
    assert {what: refused_status(attempt) for what, attempt in denied.items()} == dict.fromkeys(denied, 403)
    unknown = {
        "get run": lambda: alice.get_run("no-such-run"),
        "delete run": lambda: alice.delete_run("no-such-run"),
        "get experiment": lambda: alice.get_experiment(experiment_id="no-such-experiment"),
        "delete experiment": lambda: alice.delete_experiment("no-such-experiment"),
        "get pipeline": lambda: alice.get_pipeline("no-such-pipeline"),
        "delete pipeline": lambda: alice.delete_pipeline("no-such-pipeline"),
    }
    assert {what: refused_status(attempt) for what, attempt in unknown.items()} == dict.fromkeys(unknown, 404)
    assert bob.get_run(objects["run_b"]).run_id == objects["run_b"]                    # still there
    assert bob.get_experiment(experiment_id=objects["exp_b"]).namespace == "team-b"
    assert alice.get_pipeline(objects["pipe_a"]).pipeline_id == objects["pipe_a"]


def test_kubernetes_mode_viewer_reads_but_does_not_create(cluster, tmp_path, spec, package):
    """TokenReview and SubjectAccessReview through the test API server: bob views team-b through his group,
    admin edits everywhere (and so may write shared pipelines), alice edits team-a only."""
    with running(kubernetes_mode("pipelines", tmp_path / "service", cluster.kubeconfig)) as service:
        experiment = new_experiment(service, "admin-token", "exp-b", "team-b")
        assert call(service, "GET", f"{API}/experiments/{experiment}", "bob-token").status_code == 200
        assert call(service, "GET", f"{API}/runs?namespace=team-b", "bob-token").status_code == 200
        refused = call(service, "POST", f"{API}/experiments", "bob-token", json={"display_name": "x", "namespace": "team-b"})
        assert refused.status_code == 403, refused.text
        run = {"display_name": "x", "experiment_id": experiment, "pipeline_spec": spec}
        assert call(service, "POST", f"{API}/runs", "bob-token", json=run).status_code == 403
        assert call(service, "DELETE", f"{API}/experiments/{experiment}", "bob-token").status_code == 403
        assert new_pipeline(service, "admin-token", "shared", "", package).status_code == 200
        assert new_pipeline(service, "alice-token", "mine", "", package).status_code == 403
        assert new_pipeline(service, "alice-token", "mine", "team-a", package).status_code == 200
        assert call(service, "GET", f"{API}/runs?namespace=team-a", "bob-token").status_code == 403


def test_an_older_database_gets_the_namespace_columns(tmp_path):
    """Runs and recurring runs of a database made before namespaces take their experiment's namespace."""
    from sqlalchemy import text

    from mlplatform.db import make_engine
    from mlplatform.pipelines.store import Store

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    store = Store(engine)
    experiment = store.create_experiment("exp", namespace="team-a")
    with engine.begin() as connection:
        for table in ("runs", "recurring_runs"):
            connection.execute(text(f"DROP INDEX ix_{table}_namespace"))
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN namespace"))
        connection.execute(text("INSERT INTO runs (id, experiment_id, display_name, description, pipeline_spec, "
                                "parameters, pipeline_root, service_account, state, error, cancel_requested, "
                                "storage_state, created_at, state_history, outputs) VALUES ('old-run', :experiment, "
                                "'old', '', '{}', '{}', '', '', 'SUCCEEDED', '', 0, 'AVAILABLE', 1, '[]', '{}')"),
                           {"experiment": experiment.id})
    store = Store(engine)
    assert store.get_run("old-run").namespace == "team-a"
    assert store.default_experiment("team-a").id != store.default_experiment("team-b").id   # "Default" per namespace
