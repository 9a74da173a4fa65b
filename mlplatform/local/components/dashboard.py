"""The dashboard (`mlp serve dashboard`), started last so that it knows every other process's address."""

from __future__ import annotations

from mlplatform.endpoints import Endpoints
from mlplatform.local.components import s3
from mlplatform.local.components.base import HOST, Launch, PlannedProcess, Unavailable, local_url, new_port
from mlplatform.local.components.services import module_exists
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import require_binary

NAME = "dashboard"
MODULE = "mlplatform.dashboard.cli"


def plan(launch: Launch) -> PlannedProcess:
    if not module_exists(MODULE):
        raise Unavailable(f"unavailable: this build has no {MODULE}")
    workdir = launch.state.workdir(NAME)
    # endpoints.json is written once everything is healthy; the dashboard starts with the same addresses now.
    known = Endpoints(services={name: planned.url for name, planned in launch.planned.items()},
                      release="local", extra={"state_dir": str(launch.state.root), "s3": dict(s3.CREDENTIALS)})
    known.write(workdir / "endpoints.json")
    port = new_port()
    command = [str(require_binary("mlp")), "serve", NAME, "--host", HOST, "--port", str(port),
               "--endpoints", str(workdir / "endpoints.json")]
    url = local_url(port)
    return PlannedProcess(spec=ProcessSpec(name=NAME, command=command, health_url=f"{url}/readyz", cwd=workdir),
                          url=url)
