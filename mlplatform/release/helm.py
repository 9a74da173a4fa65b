"""Driving helm through pyhelm3 for the release commands, with the context `helm mlp` passes.

Inside the plugin Helm sets HELM_BIN (the helm that called us: 3 or 4), HELM_NAMESPACE,
HELM_KUBECONTEXT and KUBECONFIG; the click options read the same variables, so `mlp release ...`
and `helm mlp ...` behave alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from pyhelm3 import Command
from pyhelm3 import errors as helm_errors

from mlplatform.errors import ConfigError, DependencyError, MlpError
from mlplatform.tools import helm_binary
from mlplatform.values import charts

# pyhelm3 logs every failed command as a warning; errors reach the user as our one clear line instead.
logging.getLogger("pyhelm3").addHandler(logging.NullHandler())


@dataclass
class ReleaseContext:
    release: str
    namespace: str | None = None
    kube_context: str | None = None
    kubeconfig: str | None = None

    @property
    def helm(self) -> Command:
        return Command(executable=str(helm_binary()), kubeconfig=self.kubeconfig, kubecontext=self.kube_context)

    def run(self, coroutine):
        """Run one pyhelm3 call; its errors become one clear line."""
        try:
            return asyncio.run(coroutine)
        except helm_errors.ReleaseNotFoundError:
            raise ConfigError(f"release {self.release} not found in namespace {self.namespace or '(default)'}") from None
        except helm_errors.Error as error:
            raise helm_failure(error) from None

    def command(self, *args: str, stdin: bytes | None = None) -> bytes:
        """A helm command pyhelm3 has no method for (test, template --kube-version, upgrade --dry-run=server)."""
        namespace = ["--namespace", self.namespace] if self.namespace else []
        return self.run(self.helm.run([*args, *namespace], stdin))

    def manifest(self) -> list[dict]:
        """The objects of the release's current revision (hooks excluded, as Helm applies them)."""
        return [obj for obj in self.run(self.helm.get_resources(self.release, namespace=self.namespace)) if obj]

    def values(self, computed: bool = False) -> dict:
        return self.run(self.helm.get_values(self.release, computed=computed, namespace=self.namespace))

    def status(self) -> dict:
        return self.run(self.helm.status(self.release, namespace=self.namespace))

    def history(self) -> list[dict]:
        return list(self.run(self.helm.history(self.release, namespace=self.namespace)))

    def helm_major(self) -> int:
        """3 or 4: the major version of the helm this context drives."""
        version = self.run(self.helm.version()).strip().lstrip("v")
        return int(version.split(".")[0])

    def upgrade(self, chart: Path, values: dict, *, description: str, timeout: str = "15m") -> dict:
        """`helm upgrade --wait --wait-for-jobs` with the values given whole, rolled back when it fails
        (hooks included): `--atomic` on Helm 3, `--rollback-on-failure` on Helm 4. Returns the release."""
        atomic_arg = "--atomic" if self.helm_major() == 3 else "--rollback-on-failure"
        return self.run(self.helm.install_or_upgrade(
            self.release, chart, values, atomic=True, atomic_arg=atomic_arg, create_namespace=False,
            description=description, namespace=self.namespace, timeout=timeout, wait=True))

    def render_upgrade(self, chart: Path, values: dict) -> list[dict]:
        """What `helm upgrade` would apply: rendered with the cluster's lookups and capabilities, nothing changed."""
        output = self.command("upgrade", self.release, str(chart), "--dry-run=server", "--output", "json",
                              "--values", "-", stdin=json.dumps(values).encode())
        release = json.loads(output[output.index(b"{"):])
        return [obj for obj in yaml.safe_load_all(release.get("manifest", "")) if obj]

    def render_for_version(self, chart: Path, values: dict, kube_version: str) -> list[dict]:
        """The upgrade rendered offline as for Kubernetes `kube_version` (a cluster you are about to upgrade)."""
        output = self.command("template", self.release, str(chart), "--is-upgrade", "--skip-tests",
                              "--kube-version", kube_version, "--values", "-", stdin=json.dumps(values).encode())
        return [obj for obj in yaml.safe_load_all(output) if obj]


def helm_failure(error: Exception) -> MlpError:
    """A helm error as one clear line: a DependencyError (exit 3) when the cluster did not answer."""
    line = _first_line(error)
    if isinstance(error, helm_errors.ConnectionError) or "cluster unreachable" in line:
        return DependencyError(f"helm could not reach the cluster: {line}")
    return MlpError(f"helm: {line}")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def proposed_values(context: ReleaseContext, values_files: tuple[Path, ...], set_values: tuple[str, ...],
                    reset_values: bool) -> dict:
    """The release's user values (unless reset) with the values files and --set assignments over them."""
    from mlplatform.hooks.config import merge_values, read_values

    values = {} if reset_values else context.values()
    for path in values_files:
        values = merge_values(values, read_values(path))
    for assignment in set_values:
        values = merge_values(values, parse_set(assignment))
    return values


def parse_set(assignment: str) -> dict:
    """`a.b.c=value` -> {"a": {"b": {"c": value}}}, the value read as YAML (numbers, booleans)."""
    path, separator, raw = assignment.partition("=")
    if not separator or not path:
        raise ConfigError(f"--set {assignment!r}: expected key.path=value")
    value = yaml.safe_load(raw) if raw else ""
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def chart_path(chart: str | None, workdir: Path) -> Path:
    """The chart to render: the given directory or package, else this project's umbrella chart, staged."""
    if chart:
        return Path(chart)
    return charts.stage(workdir / "charts", helm_binary()) / charts.UMBRELLA


def staging_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="mlp-release-")
