"""The routed model-server entry: nginx in front of the two MLServer tracks, with weights.

nginx.conf is fixed for the platform's life. routing.conf holds the split: a weighted upstream
(smooth weighted round robin, so the ratio is exact) and the weight itself, which nginx reports at
`/-/weight` so a router reads the split nginx actually serves. The local-nginx router rewrites
routing.conf and reloads nginx; a reload finishes in-flight requests on the old workers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mlplatform.errors import DependencyError
from mlplatform.local.components.base import HOST, Launch, PlannedProcess, Unavailable, local_url, new_port
from mlplatform.local.components.mlserver import process_name
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import require_binary

NAME = "model-server"
ACCESS_LOG = "model-server-access.log"
TRACK_HEADER = "X-Model-Server-Track"
WEIGHT_PATH = "/-/weight"
HEALTH_PATH = "/-/healthy"

NGINX_CONF = """\
# Local mode's model-server router (mlp local up). Weights live in routing.conf.
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log stderr notice;

events {{
    worker_connections 1024;
}}

http {{
    client_body_temp_path {workdir}/tmp/body;
    proxy_temp_path {workdir}/tmp/proxy;
    fastcgi_temp_path {workdir}/tmp/fastcgi;
    uwsgi_temp_path {workdir}/tmp/uwsgi;
    scgi_temp_path {workdir}/tmp/scgi;

    map $upstream_addr $model_server_track {{
        {stable} stable;
        {canary} canary;
        default "";
    }}
    log_format timed '$time_iso8601 $remote_addr "$request" $status $body_bytes_sent '
                     'rt=$request_time track=$model_server_track upstream=$upstream_addr '
                     'upstream_status=$upstream_status urt=$upstream_response_time';
    access_log {access_log} timed;
    # A reload closes the old workers' idle keep-alive connections, and a client that sends on one at
    # that moment gets a reset. One connection per request makes a weight change lose nothing.
    keepalive_timeout 0;

    include {workdir}/routing.conf;

    server {{
        listen {host}:{port};
        client_max_body_size 64m;

        location = {health} {{
            access_log off;
            return 200 "ok\\n";
        }}
        location = {weight_path} {{
            access_log off;
            default_type application/json;
            return 200 '{{"canary": $canary_weight}}\\n';
        }}
        location / {{
            proxy_pass http://model_server;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            add_header {track_header} $model_server_track always;
        }}
    }}
}}
"""

ROUTING_CONF = """\
# Written by the local-nginx router: {weight}% of the requests to the canary track.
upstream model_server {{
    server {stable}{stable_weight};
    server {canary}{canary_weight};
    keepalive 32;
}}
geo $canary_weight {{
    default {weight};
}}
"""


def plan(launch: Launch) -> PlannedProcess:
    nginx = require_binary("nginx")
    workdir = launch.state.workdir(NAME)
    port = new_port()
    urls = [launch.url_of(process_name(track)) for track in ("stable", "canary")]
    if None in urls:
        raise Unavailable("nginx routes to both MLServer tracks, and one of them cannot start")
    stable, canary = map(upstream_address, urls)
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)  # nginx makes the temp dirs, owned by its workers' user
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(
        workdir=workdir, host=HOST, port=port, stable=stable, canary=canary, health=HEALTH_PATH,
        weight_path=WEIGHT_PATH, track_header=TRACK_HEADER, access_log=launch.state.logs / ACCESS_LOG))
    write_routing(workdir, stable, canary, weight=0)
    url = local_url(port)
    spec = ProcessSpec(name=NAME, command=[str(nginx), "-p", str(workdir), "-c", str(conf)],
                       health_url=f"{url}{HEALTH_PATH}", cwd=workdir)
    return PlannedProcess(spec=spec, url=url)


def upstream_address(url: str) -> str:
    return url.removeprefix("http://").rstrip("/")


def write_routing(workdir: Path, stable: str, canary: str, weight: int) -> None:
    """routing.conf for `weight` percent to the canary; a track with no share is marked down."""
    def share(percent: int) -> str:
        return f" weight={percent}" if percent > 0 else " down"

    (workdir / "routing.conf").write_text(ROUTING_CONF.format(
        weight=weight, stable=stable, canary=canary, stable_weight=share(100 - weight), canary_weight=share(weight)))


def reload(nginx: str, workdir: Path) -> None:
    """Check the configuration, then reload gracefully (`-s reload`): old workers finish their requests."""
    base = [nginx, "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    for action in (["-t", "-q"], ["-s", "reload"]):
        result = subprocess.run(base + action, capture_output=True, text=True, check=False, timeout=30)
        if result.returncode != 0:
            raise DependencyError(f"nginx {' '.join(action)} failed: {result.stderr.strip()[:500]}")


def serving_workers(master_pid: int) -> set[int]:
    """The master's workers that still take requests, as opposed to those shutting down after a reload.

    A worker told to shut down closes its idle keep-alive connections and serves no new request,
    so once none of the workers from before a reload is serving, every request gets the new config.
    """
    workers = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            title = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == master_pid and title.startswith(b"nginx: worker process") and b"shutting down" not in title:
            workers.add(int(entry))
    return workers
