"""The model server's two tracks: one MLServer each, configured as the chart's Deployments are."""

from __future__ import annotations

from mlplatform.local.components.base import HOST, Launch, PlannedProcess, ScrapeTarget, local_url, new_port
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import require_binary

TRACKS = ("stable", "canary")
COMPONENT = "model-server"


def process_name(track: str) -> str:
    return f"{COMPONENT}-{track}"


def plan(launch: Launch, track: str) -> PlannedProcess:
    name = process_name(track)
    workdir = launch.state.workdir(name)
    repository = launch.state.model_repository(track)
    repository.mkdir(parents=True, exist_ok=True)
    http_port, grpc_port, metrics_port = new_port(), new_port(), new_port()
    env = {
        "MLSERVER_HOST": HOST,
        "MLSERVER_HTTP_PORT": str(http_port),
        "MLSERVER_GRPC_PORT": str(grpc_port),
        "MLSERVER_METRICS_PORT": str(metrics_port),
        "MLSERVER_PARALLEL_WORKERS": str(launch.parallel_workers),
        "MLSERVER_METRICS_DIR": str(workdir / "metrics"),
        "MLSERVER_ENVIRONMENTS_DIR": str(workdir / "envs"),
        "MLSERVER_DEBUG": "false",   # no per-request access log: nginx keeps the one access log
        "OMP_NUM_THREADS": "1",      # as the chart sets it: OpenMP pools per worker oversubscribe the CPU
    }
    url = local_url(http_port)
    spec = ProcessSpec(name=name, command=[str(require_binary("mlserver")), "start", str(repository)],
                       health_url=f"{url}/v2/health/ready", cwd=workdir, env=env)
    metrics = ScrapeTarget(f"{HOST}:{metrics_port}", "/metrics", {"component": COMPONENT, "track": track})
    return PlannedProcess(spec=spec, url=url, metrics=metrics)
