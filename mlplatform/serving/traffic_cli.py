"""`mlp traffic URL`: steady inference traffic with a live success and latency line.

    mlp traffic http://127.0.0.1:8080/v2/models/fraud/infer --rate 20 --duration 60 --body @request.json
    mlp traffic /v2/models/fraud/infer --body @request.json      (a path: local mode's model server)

A canary analysis judges only what clients send; local mode has no clients of its own, so this is
the client to run beside `mlp canary rollout --local`. The requests come from `Traffic`
(mlplatform.serving.traffic), the same generator the demo and the tests use.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from pathlib import Path

import click
import requests

from mlplatform.cli.options import state_dir_option
from mlplatform.errors import ConfigError, DependencyError

INFER_PATH = re.compile(r"^(?P<base>.*/v2/models/(?P<model>[^/]+)(/versions/[^/]+)?)/infer$")
REPORT_SECONDS = 1.0


@click.command("traffic")
@click.argument("url")
@state_dir_option(help="Local mode's state directory, for a URL that is only a path.")
@click.option("--rate", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Requests per second (sent on schedule, whatever the answers take).")
@click.option("--duration", type=click.FloatRange(min=0.1), default=None,
              help="Seconds to send for (default: until Ctrl-C).")
@click.option("--body", default=None, metavar="JSON|@FILE",
              help="The v2 inference request to send: JSON text or @file. Default: zeros shaped by the model's "
                   "metadata (GET /v2/models/<name>), when it declares its inputs.")
def traffic(url: str, state_dir: Path, rate: float, duration: float | None, body: str | None) -> None:
    """Send POST URL at a steady rate and show the success rate and latency live; a summary at the end.

    URL is a full URL, or a path (/v2/models/NAME/infer) on local mode's model server (nginx, which
    splits the traffic between the stable and canary tracks)."""
    from mlplatform.serving.traffic import Traffic

    if url.startswith("/"):
        url = local_model_server(state_dir) + url
    request = read_body(body) if body else body_from_metadata(url)
    started = time.monotonic()
    ends = math.inf if duration is None else started + duration
    with Traffic(url, request, rate=rate) as load:
        try:
            while (now := time.monotonic()) < ends:
                time.sleep(min(REPORT_SECONDS, ends - now))
                _show(live_line(load.stats(), time.monotonic() - started), final=False)
        except KeyboardInterrupt:
            pass
    stats = load.stats()
    _show("total " + live_line(stats, time.monotonic() - started), final=True)
    if stats.total and all(sample.status == 0 for sample in stats.samples):
        raise DependencyError(f"{url} did not answer any of {stats.total} requests")


def local_model_server(state_dir: Path) -> str:
    from mlplatform.local.state import StateDir

    state = StateDir.at(state_dir)
    if not state.endpoints_file.exists():
        raise DependencyError(f"local mode is not running in {state.root} (start it with `mlp local up`), "
                              "so a path is not a URL: give the whole URL")
    return state.read_endpoints().url("model-server")


def live_line(stats, seconds: float) -> str:
    """'12s: 240 sent, 99.6% ok, p50 4 ms, p99 12 ms, by track stable 180 canary 60' (statuses when not all 200)."""
    ok = 1 - stats.error_rate if stats.total else math.nan
    line = (f"{seconds:.0f}s: {stats.total} sent, {ok:.1%} ok, p50 {stats.percentile(0.5) * 1000:.0f} ms, "
            f"p99 {stats.percentile(0.99) * 1000:.0f} ms")
    tracks = {track: count for track, count in stats.by_track.items() if track}
    if tracks:
        line += ", by track " + " ".join(f"{track} {count}" for track, count in sorted(tracks.items()))
    if set(stats.by_status) - {200}:
        line += ", statuses " + " ".join(f"{status or 'no-answer'}:{count}"
                                         for status, count in sorted(stats.by_status.items()))
    return line


def _show(line: str, final: bool) -> None:
    if sys.stdout.isatty():
        click.echo(f"\r{line}\033[K", nl=final)
    else:
        click.echo(line)


def read_body(body: str) -> dict:
    text = Path(body[1:]).read_text() if body.startswith("@") else body
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"--body is not JSON: {error}") from None
    if not isinstance(request, dict):
        raise ConfigError("--body must be a JSON object (a v2 inference request)")
    return request


def body_from_metadata(url: str) -> dict:
    """A request of zeros for each input the model's v2 metadata declares (a -1 dimension becomes 1)."""
    match = INFER_PATH.match(url.rstrip("/"))
    if not match:
        raise ConfigError(f"{url} is not a v2 inference URL (.../v2/models/<name>/infer): give --body")
    try:
        response = requests.get(match["base"], timeout=10)
    except requests.RequestException as error:
        raise DependencyError(f"{match['base']} did not answer: {error}") from None
    inputs = response.json().get("inputs") if response.ok else None
    if not inputs:
        raise ConfigError(f"model {match['model']} declares no inputs in its metadata ({match['base']}): give "
                          "--body with a v2 inference request (JSON or @file)")
    return {"inputs": [_zeros(item) for item in inputs]}


def _zeros(item: dict) -> dict:
    shape = [dimension if dimension > 0 else 1 for dimension in item.get("shape") or [1]]
    datatype = item.get("datatype", "FP64")
    zero = "" if datatype == "BYTES" else (False if datatype == "BOOL" else 0)
    return {"name": item["name"], "shape": shape, "datatype": datatype, "data": [zero] * math.prod(shape)}
