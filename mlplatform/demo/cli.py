"""`mlp demo`: the fraud-detection story end to end in local mode, through the interfaces a user has.

1. `mlp local up`                 the platform as local processes
2. synthetic transactions          uploaded to S3 (moto)
   (--distributed)                 a 2-replica DDP variant trained as a PyTorchJob, registered as fraud-ddp
3. kfp.Client                      the training pipeline on the pipeline controller
4. the MLflow registry             the baseline registered as version 1 and served as stable
5. the tuning service              a Katib Experiment (TPE) over the trainer's hyperparameters
6. kfp.Client + MLflow             the best trial's hyperparameters trained and registered as a new version
7. `mlp canary rollout --local`    the new version behind a canary, under live traffic, to 100%
8. `mlp validate --local`          the post-install validation
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import click
import requests
import yaml

from mlplatform.cli.options import state_dir_option
from mlplatform.demo.story import DemoContext, mlp, run_steps, write_summary
from mlplatform.endpoints import Endpoints
from mlplatform.errors import DependencyError, MlpError

MODEL = "fraud"
DDP_MODEL = "fraud-ddp"   # --distributed: the PyTorch variant, registered beside the served sklearn model
DDP_MODEL_URI = "s3://mlpipeline/demo/ddp-model"
DDP_WORKERS = 1           # plus the master: 2 replicas
MODEL_DESCRIPTIONS = {MODEL: "Card-fraud classifier (mlplatform demo)",
                      DDP_MODEL: "Card-fraud logistic regression trained with PyTorch DDP (mlplatform demo --distributed)"}
DATA_URI = "s3://mlpipeline/demo/transactions.csv"
# Short analysis windows so the rollout fits the demo's budget; a cluster keeps the chart's defaults.
DEMO_ANALYSIS = {"intervalSeconds": 4, "iterations": 3, "failureLimit": 1, "minRequests": 10,
                 "minSuccessRate": 0.99, "maxLatencyP99Seconds": 0.5, "maxLatencyRatio": 3.0}
TRAFFIC_RATE = 20   # requests per second through nginx while the canary rolls out
INFER_PATH = f"/v2/models/{MODEL}/infer"
REQUEST_FILE = "inference-request.json"


def start_platform(context: DemoContext) -> str:
    endpoints_file = context.state_dir / "endpoints.json"
    if endpoints_file.exists() and _platform_healthy(context.state_dir):
        context.endpoints = Endpoints.read(endpoints_file)
        return f"reusing the local platform already running in {context.state_dir}"
    mlp("local", "up", "--state-dir", str(context.state_dir), "--scrape-interval", "1")
    context.endpoints = Endpoints.read(endpoints_file)
    return f"{len(context.endpoints.services)} services up; endpoints in {endpoints_file}"


def _platform_healthy(state_dir: Path) -> bool:
    try:
        mlp("local", "status", "--state-dir", str(state_dir), timeout=60)
    except MlpError:
        return False
    return True


def upload_transactions(context: DemoContext) -> str:
    from mlplatform.demo.data import LABEL, generate_transactions

    frame = generate_transactions(rows=context.facts["rows"])
    path = context.work_dir / "transactions.csv"
    frame.to_csv(path, index=False)
    bucket, _, key = DATA_URI.removeprefix("s3://").partition("/")
    _s3(context).upload_file(str(path), bucket, key)
    context.facts["data"] = {"uri": DATA_URI, "local_copy": str(path), "rows": len(frame),
                             "fraud_rate": round(float(frame[LABEL].mean()), 4)}
    return f"{len(frame)} transactions ({frame[LABEL].mean():.1%} fraud) in {DATA_URI}"


def train_baseline(context: DemoContext) -> str:
    run = _train(context, run_name="fraud-training-baseline", hyperparameters={})
    context.facts["baseline_run"] = run
    return f"run {run['run_id']} succeeded: auc {run['metrics'].get('auc', float('nan')):.4f}; model {run['model_uri']}"


def register_and_serve_baseline(context: DemoContext) -> str:
    run = context.facts["baseline_run"]
    version = _register(context, run, alias="champion")
    values = {"modelServer": {"models": [{"name": MODEL, "uri": version.uri}],
                              "canary": {"enabled": False, "weight": 0, "models": [], "analysis": DEMO_ANALYSIS}}}
    values_file = context.work_dir / "baseline-values.yaml"
    values_file.write_text(yaml.safe_dump(values, sort_keys=False))
    mlp("local", "apply", "--state-dir", str(context.state_dir), "--values", str(values_file))
    context.facts["baseline_version"] = version.uri
    return f"registered {version.uri} (alias champion) and serving it on the stable track"


def tune(context: DemoContext) -> str:
    from mlplatform.demo.experiment import fraud_tuning_experiment

    name = f"fraud-tuning-{int(time.time())}"
    experiment = fraud_tuning_experiment(context.facts["data"]["local_copy"], name=name,
                                         trials=context.facts["trials"], parallel=2)
    base = context.endpoints.url("tuning-service") + "/api/v1/experiments"
    _checked(requests.post(base, json=experiment, timeout=30), "submitting the experiment")
    status = _wait_for_experiment(f"{base}/{name}")
    optimal = status["currentOptimalTrial"]
    best = {item["name"]: item["value"] for item in optimal["parameterAssignments"]}
    objective = {metric["name"]: float(metric["latest"]) for metric in optimal["observation"]["metrics"]}
    context.facts["tuning"] = {"experiment": name, "best_parameters": best, "best_metrics": objective,
                               "trials": status.get("trials")}
    return f"experiment {name}: {status.get('trials')} trials, best auc {objective['auc']:.4f} with {best}"


def train_and_register_best(context: DemoContext) -> str:
    best = context.facts["tuning"]["best_parameters"]
    hyperparameters = {"learning_rate": float(best["lr"]), "max_depth": int(best["depth"]),
                       "max_iter": int(best["iterations"])}
    run = _train(context, run_name="fraud-training-tuned", hyperparameters=hyperparameters)
    version = _register(context, run, alias="challenger")
    context.facts["tuned_run"] = run
    context.facts["candidate_version"] = version.uri
    return f"run {run['run_id']}: auc {run['metrics'].get('auc', float('nan')):.4f}; registered {version.uri}"


def canary_rollout(context: DemoContext) -> str:
    from mlplatform.serving.traffic import Traffic

    candidate = context.facts["candidate_version"]
    url = f"{context.endpoints.url('model-server')}{INFER_PATH}"
    request = _inference_request(context)
    (context.work_dir / REQUEST_FILE).write_text(json.dumps(request) + "\n")   # for `mlp traffic --body @...`
    with Traffic(url, request, rate=TRAFFIC_RATE) as traffic:
        mlp("canary", "rollout", "--local", "--state-dir", str(context.state_dir), "--model", MODEL,
            "--version", candidate, "--steps", context.facts["steps"])
    stats = traffic.stats()
    context.facts["traffic"] = {"requests": stats.total, "errors": stats.errors, "by_track": stats.by_track,
                                "p99_seconds": round(stats.percentile(0.99), 4)}
    return (f"{candidate} promoted through {context.facts['steps']} % under {stats.total} requests "
            f"({stats.errors} errors, p99 {stats.percentile(0.99) * 1000:.0f} ms)")


def _inference_request(context: DemoContext, rows: int = 4) -> dict:
    """A v2 inference request of a few real transactions, as a payment service would send."""
    import pandas as pd

    from mlplatform.demo.data import FEATURES

    sample = pd.read_csv(context.facts["data"]["local_copy"], nrows=rows)[FEATURES].astype("float64")
    return {"inputs": [{"name": "transactions", "shape": [len(sample), len(FEATURES)], "datatype": "FP64",
                        "data": sample.to_numpy().ravel().tolist()}]}


def train_distributed(context: DemoContext) -> str:
    """The classifier's DDP variant as a 2-replica PyTorchJob (gloo) on the training operator, its model
    registered as its own MLflow model."""
    from mlplatform.components.jobs import run_pytorchjob

    if not context.endpoints.has("training-operator"):
        raise MlpError("--distributed needs the training operator, which this local platform does not run "
                       f"(mlp local down --state-dir {context.state_dir}, then run the demo again)")
    model_dir = context.work_dir / "ddp-model"
    name = f"fraud-ddp-{int(time.time())}"
    command = [sys.executable, "-m", "mlplatform.demo.ddp_trainer", "--data", context.facts["data"]["local_copy"],
               "--epochs", "5", "--model-dir", str(model_dir)]
    try:
        run_pytorchjob(command, name=name, workers=DDP_WORKERS, namespace="default", print_log=False,
                       training_url=context.endpoints.url("training-operator"), timeout_seconds=600)
    except RuntimeError as error:
        raise MlpError(str(error)) from None
    auc = json.loads((model_dir / "metrics.json").read_text())["auc"]
    bucket, _, prefix = DDP_MODEL_URI.removeprefix("s3://").partition("/")
    for path in model_dir.iterdir():
        _s3(context).upload_file(str(path), bucket, f"{prefix}/{path.name}")
    run = {"run_id": name, "model_uri": DDP_MODEL_URI, "metrics": {"auc": auc}}
    version = _register(context, run, alias="distributed", model=DDP_MODEL)
    context.facts["distributed"] = {"pytorchjob": name, "replicas": 1 + DDP_WORKERS, "auc": auc,
                                    "version": version.uri}
    return f"PyTorchJob {name} ({1 + DDP_WORKERS} replicas, gloo) succeeded: auc {auc:.4f}; registered {version.uri}"


def validate(context: DemoContext) -> str:
    report = mlp("validate", "--local", "--state-dir", str(context.state_dir))
    return report.strip().splitlines()[-1] if report.strip() else "validation passed"


STEPS = [
    ("start the platform (mlp local up)", start_platform),
    ("generate card transactions", upload_transactions),
    ("train the baseline with the KFP pipeline", train_baseline),
    ("register it in MLflow and serve it", register_and_serve_baseline),
    ("tune hyperparameters with a Katib experiment", tune),
    ("train the best trial and register it as a new version", train_and_register_best),
    ("canary rollout under live traffic", canary_rollout),
    ("validate the platform (mlp validate --local)", validate),
]
DISTRIBUTED_STEP = ("train a 2-replica DDP variant as a PyTorchJob", train_distributed)


def story_steps(distributed: bool) -> list:
    """The story; with --distributed the DDP variant trains right after the data is there."""
    return [*STEPS[:2], DISTRIBUTED_STEP, *STEPS[2:]] if distributed else STEPS


@click.command(help="Run the fraud-detection story end to end in local mode: pipeline, registry, tuning, "
                    "canary rollout and validation. Leaves the platform running unless --down.")
@state_dir_option(help="Local mode's state directory (reused when a platform is already running).")
@click.option("--rows", type=click.IntRange(min=1000), default=20_000, show_default=True,
              help="Synthetic transactions to generate.")
@click.option("--trials", type=click.IntRange(min=2), default=8, show_default=True,
              help="Tuning trials (maxTrialCount), two at a time.")
@click.option("--steps", default="25,50,100", show_default=True, help="Canary weights, in percent.")
@click.option("--distributed", is_flag=True,
              help="Also train a 2-replica DDP variant of the model as a PyTorchJob on the training operator.")
@click.option("--down", is_flag=True, help="Stop the platform when the demo ends.")
def demo(state_dir: Path, rows: int, trials: int, steps: str, distributed: bool, down: bool) -> None:
    work_dir = state_dir / "demo"
    work_dir.mkdir(parents=True, exist_ok=True)
    context = DemoContext(state_dir=state_dir, work_dir=work_dir,
                          facts={"rows": rows, "trials": trials, "steps": steps})
    started = time.monotonic()
    try:
        results = run_steps(story_steps(distributed), context)
    finally:
        if down:
            mlp("local", "down", "--state-dir", str(state_dir))
    summary = write_summary(context, results)
    _print_summary(context, time.monotonic() - started, summary, down)


def _print_summary(context: DemoContext, seconds: float, summary: Path, stopped: bool) -> None:
    click.echo(f"\ndemo finished in {seconds:.0f}s; summary in {summary}")
    click.echo(f"  stable model: {context.facts['candidate_version']} (was {context.facts['baseline_version']})")
    if stopped:
        click.echo("  the platform is stopped")
        return
    for name, url in sorted(context.endpoints.services.items()):
        click.echo(f"  {name:<22} {url}")
    if context.endpoints.has("dashboard"):
        click.echo(f"  open the dashboard: {context.endpoints.url('dashboard')}/  (runs, experiment, models, rollout)")
    click.echo(f"  send it traffic: mlp traffic {INFER_PATH} --state-dir {context.state_dir} "
               f"--body @{context.work_dir / REQUEST_FILE}")
    click.echo(f"  stop it with: mlp local down --state-dir {context.state_dir}")


def _s3(context: DemoContext):
    from mlplatform.s3 import s3_client

    return s3_client(context.endpoints.url("minio"), context.endpoints.extra.get("s3"))


def _train(context: DemoContext, *, run_name: str, hyperparameters: dict) -> dict:
    """One run of the training pipeline through kfp.Client, as a data scientist submits it."""
    import kfp

    from mlplatform.demo.pipeline import fraud_training

    warnings.filterwarnings("ignore", category=FutureWarning, module="kfp")   # "only works with KFP >= 2.0.0-beta.2"

    host = context.endpoints.url("pipeline-controller")
    client = kfp.Client(host=host)
    run = client.create_run_from_pipeline_func(fraud_training, arguments={"source": DATA_URI, **hyperparameters},
                                               run_name=run_name, experiment_name="fraud-demo")
    finished = client.wait_for_run_completion(run.run_id, timeout=600)
    if finished.state != "SUCCEEDED":
        raise MlpError(f"pipeline run {run.run_id} ended {finished.state}{_run_failure(host, run.run_id)}")
    artifacts = _checked(requests.get(f"{host}/apis/v2beta1/runs/{run.run_id}/artifacts", timeout=30),
                         "reading the run's artifacts").json()["artifacts"]
    model_uri = next(item["uri"] for item in artifacts if item["output_name"] == "model")
    metrics = next((item["metadata"] for item in artifacts if item["type"] == "system.Metrics"), {})
    return {"run_id": run.run_id, "model_uri": model_uri, "metrics": metrics, "hyperparameters": hyperparameters}


def _register(context: DemoContext, run: dict, *, alias: str, model: str = MODEL):
    from mlplatform.registries import open_registry

    registry = open_registry("mlflow", context.endpoints.url("model-registry"))
    registry.ensure_model(model, description=MODEL_DESCRIPTIONS[model])
    tags = {"pipeline_run": run["run_id"], **{f"metric.{key}": str(value) for key, value in run["metrics"].items()}}
    version = registry.ensure_version(model, source=run["model_uri"], tags=tags)
    registry.set_alias(model, alias, version.version)
    return version


def _wait_for_experiment(url: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    reported = None
    while time.monotonic() < deadline:
        status = _checked(requests.get(url, timeout=30), "reading the experiment").json()["status"]
        conditions = {item["type"]: item for item in status.get("conditions", []) if item.get("status") == "True"}
        progress = f"{status.get('trialsSucceeded', 0)} succeeded, {status.get('trialsRunning', 0)} running"
        if progress != reported:
            click.echo(f"      trials: {progress}")
            reported = progress
        if "Succeeded" in conditions:
            return status
        if "Failed" in conditions:
            raise MlpError(f"experiment failed: {conditions['Failed'].get('message', '')}{_failed_trial(url)}")
        time.sleep(1)
    raise MlpError(f"experiment at {url} did not finish in {timeout:.0f}s")


def _failed_trial(experiment_url: str) -> str:
    """The last failed trial's condition (its exit code and output tail) and where its whole log is."""
    trials = _checked(requests.get(f"{experiment_url}/trials", timeout=30), "reading the trials").json()["items"]
    for trial in reversed(trials):
        failed = [c for c in trial["status"].get("conditions", []) if c["type"] == "Failed" and c["status"] == "True"]
        if failed:
            name = trial["metadata"]["name"]
            return f"\ntrial {name}: {failed[0].get('message', '')}\nits log: {experiment_url}/trials/{name}/logs"
    return ""


def _run_failure(host: str, run_id: str) -> str:
    """The failed tasks of a run and the end of their logs (the task error carries them)."""
    run = _checked(requests.get(f"{host}/apis/v2beta1/runs/{run_id}", timeout=30), "reading the run").json()
    failed = [task for task in (run.get("run_details") or {}).get("task_details", []) if task.get("state") == "FAILED"]
    return "".join(f"\ntask {task.get('display_name')}: {(task.get('error') or {}).get('message', '')}"
                   for task in failed)


def _checked(response: requests.Response, doing: str) -> requests.Response:
    if response.status_code >= 500:
        raise DependencyError(f"{doing}: {response.url} -> HTTP {response.status_code}: {response.text[:300]}")
    if response.status_code >= 400:
        raise MlpError(f"{doing}: {response.url} -> HTTP {response.status_code}: {response.text[:300]}")
    return response
