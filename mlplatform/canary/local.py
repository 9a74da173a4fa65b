"""The rollout target for local mode (`mlp local up`): the same steps as a release, without Helm.

A step applies its values with `apply_model_server_values` (local mode's `helm upgrade`: it loads the
canary's models, sets nginx's weight and records `<state-dir>/values.yaml`), then runs the same
analysis the chart's hook runs, `analyse()`, against local mode's Prometheus.
"""

from __future__ import annotations

from pathlib import Path

from mlplatform.canary.analysis import NO_TRAFFIC
from mlplatform.canary.plan import canary_section, model_server
from mlplatform.canary.rollout import Progress, StepOutcome
from mlplatform.errors import DependencyError
from mlplatform.local.state import StateDir


class LocalTarget:
    def __init__(self, state_dir: Path | str, values_files: tuple[Path, ...] = ()):
        self.state = StateDir.at(state_dir)
        self.values_files = values_files
        self.name = f"local mode ({self.state.root})"

    def values(self) -> dict:
        """The recorded release values (`<state-dir>/values.yaml`), the --values files over them."""
        from mlplatform.hooks.config import merge_values, read_values

        if not self.state.endpoints_file.exists():
            raise DependencyError(f"local mode is not running in {self.state.root} "
                                  f"(start it with `mlp local up --state-dir {self.state.root}`)")
        values = self.state.read_values()
        for path in self.values_files:
            values = merge_values(values, read_values(path))
        return values

    def current(self) -> dict:
        return self.values()

    def apply_step(self, values: dict, label: str, progress: Progress) -> StepOutcome:
        from mlplatform.canary.analysis import AnalysisSettings, analyse

        self.apply(values, label, progress)
        settings = AnalysisSettings.from_values(canary_section(values).get("analysis") or {})
        report = analyse(self.prometheus_url(), settings, progress=lambda line: progress(f"{label}: {line}"))
        reason = report.reason
        if not report.passed and NO_TRAFFIC in reason:
            reason += f"; {self.traffic_hint(values)}"
        return StepOutcome(report.passed, reason, analysis=report.to_dict())

    def traffic_hint(self, values: dict) -> str:
        """Local mode has no clients of its own: say where to send requests."""
        models = [model["name"] for model in canary_section(values).get("models") or []] or ["MODEL"]
        path = f"/v2/models/{models[0]}/infer"
        url = self.state.read_endpoints().url("model-server") + path
        return (f"{NO_TRAFFIC}: send inference requests to {url} during the rollout, or run "
                f"`mlp traffic {path} --state-dir {self.state.root} --body @REQUEST.json` beside it")

    def apply(self, values: dict, label: str, progress: Progress) -> None:
        from mlplatform.local.model_values import apply_model_server_values

        apply_model_server_values(self.state.root, values, report=lambda line: progress(f"{label}: {line}"))

    def weight(self) -> int:
        return local_router(self.state, self.state.read_values()).get_weight()

    def revisions(self) -> list[dict]:
        """Local mode keeps no revisions: its record is the rollout report."""
        return []

    def prometheus_url(self) -> str:
        endpoints = self.state.read_endpoints()
        if not endpoints.has("prometheus"):
            raise DependencyError(f"local mode in {self.state.root} runs no Prometheus, so no analysis can "
                                  "gate a step (see `mlp local status`)")
        return endpoints.url("prometheus")


def local_router(state: StateDir, values: dict):
    from mlplatform.routers import RouterContext, open_router

    return open_router(model_server(values), RouterContext(release="local", state_dir=state.root))
