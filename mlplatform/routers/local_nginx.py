"""`local-nginx`: local mode's nginx weights (`mlp local up`).

set_weight rewrites routing.conf in nginx's work dir, checks it and reloads nginx gracefully, then
waits until nginx itself reports the new weight (`/-/weight`) and every worker from before the
reload has stopped taking requests: from then on every request is routed with the new weight, and
no request is dropped on the way (old workers finish theirs).
"""

from __future__ import annotations

import time

import requests

from mlplatform.errors import ConfigError, DependencyError
from mlplatform.local.components import nginx
from mlplatform.local.components.mlserver import process_name
from mlplatform.local.state import StateDir
from mlplatform.local.supervisor import ProcessRecord
from mlplatform.routers.base import Router, RouterContext, check_weight

RELOAD_TIMEOUT = 15.0


class LocalNginxRouter(Router):
    name = "local-nginx"

    def __init__(self, values: dict, context: RouterContext):
        super().__init__(values, context)
        if context.state_dir is None:
            raise ConfigError("router local-nginx needs local mode's state dir")
        self.state = StateDir.at(context.state_dir)
        endpoints = self.state.read_endpoints()
        if not endpoints.has(nginx.NAME):
            raise DependencyError(f"local mode in {self.state.root} runs no nginx (see `mlp local status`)")
        self.url = endpoints.url(nginx.NAME)
        self.upstreams = [nginx.upstream_address(endpoints.url(process_name(track))) for track in ("stable", "canary")]

    def get_weight(self) -> int:
        try:
            response = requests.get(self.url + nginx.WEIGHT_PATH, timeout=5)
            response.raise_for_status()
            return int(response.json()["canary"])
        except (requests.RequestException, ValueError, KeyError) as error:
            raise DependencyError(f"nginx at {self.url} did not report its weight ({type(error).__name__})") from None

    def set_weight(self, weight: int) -> None:
        weight = check_weight(weight)
        workdir = self.state.workdir(nginx.NAME)
        master = self._nginx_process()
        old_workers = nginx.serving_workers(master.pid)
        nginx.write_routing(workdir, *self.upstreams, weight=weight)
        nginx.reload(master.command[0], workdir)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while self.get_weight() != weight or nginx.serving_workers(master.pid) & old_workers:
            if time.monotonic() > deadline:
                raise DependencyError(f"nginx at {self.url} did not switch to weight {weight} within "
                                      f"{RELOAD_TIMEOUT:g}s of a reload (see {master.log})")
            time.sleep(0.02)

    def _nginx_process(self) -> ProcessRecord:
        """The nginx master of this platform, as `mlp local up` recorded it."""
        for entry in self.state.read_processes()["processes"]:
            if entry["name"] == nginx.NAME:
                return ProcessRecord.from_dict(entry)
        raise DependencyError(f"no nginx process recorded in {self.state.processes_file}")
