"""Prometheus scraping every local process that has metrics, with the chart's rule files."""

from __future__ import annotations

import yaml

from mlplatform.local.components.base import HOST, Launch, PlannedProcess, local_url, new_port
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import PROJECT_ROOT, require_binary

NAME = "prometheus"
RULES_DIR = PROJECT_ROOT / "charts" / "prometheus" / "files" / "rules"


def duration(seconds: float) -> str:
    """Prometheus duration syntax: 1.5 -> '1500ms'."""
    return f"{round(seconds * 1000)}ms"


def plan(launch: Launch) -> PlannedProcess:
    prometheus = require_binary("prometheus")
    workdir = launch.state.workdir(NAME)
    workdir.mkdir(parents=True, exist_ok=True)
    port = new_port()
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump(configuration(launch, f"{HOST}:{port}"), sort_keys=False))
    command = [str(prometheus), f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
               f"--web.listen-address={HOST}:{port}", "--web.enable-lifecycle", "--log.level=warn"]
    url = local_url(port)
    spec = ProcessSpec(name=NAME, command=command, health_url=f"{url}/-/ready", cwd=workdir)
    return PlannedProcess(spec=spec, url=url)


def configuration(launch: Launch, own_address: str) -> dict:
    interval = duration(launch.scrape_interval)
    jobs = [scrape_job(NAME, own_address, "/metrics", {"component": NAME})]
    for planned in launch.planned.values():
        if planned.metrics is not None:
            target = planned.metrics
            jobs.append(scrape_job(planned.name, target.address, target.path, target.labels))
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "scrape_timeout": duration(min(launch.scrape_interval, 10.0))},
        "scrape_configs": jobs,
    }
    if rule_files():
        config["rule_files"] = [str(RULES_DIR / "*.yaml")]
    return config


def scrape_job(name: str, address: str, path: str, labels: dict[str, str]) -> dict:
    return {"job_name": name, "metrics_path": path,
            "static_configs": [{"targets": [address], "labels": dict(labels)}]}


def rule_files() -> list:
    return sorted(RULES_DIR.glob("*.yaml")) if RULES_DIR.is_dir() else []


def rules_notice() -> str | None:
    if rule_files():
        return None
    return f"prometheus: no rule files in {RULES_DIR} (generate them with `mlp values render`); starting without rules"
