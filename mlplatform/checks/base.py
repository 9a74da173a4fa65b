"""What a validation check is: a `mlplatform.checks` plugin that returns results naming component and cause.

A check is a class with a `name`, built with no arguments, whose `run(context)` returns a list of
CheckResult (one per component, service, model or target it looked at). `skip_reason(context)`
returns why the check does not apply here (no Kubernetes in local mode, smoke runs switched off...).
An exception escaping `run` becomes a failed result naming the check, so one broken check never hides
the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlplatform.hooks.config import HookConfig

PASSED = "passed"
FAILED = "failed"
WARNING = "warning"    # worth reading, not a failure
SKIPPED = "skipped"


@dataclass
class CheckResult:
    check: str
    component: str
    status: str
    detail: str = ""          # on failure: the cause, and what to do where we know it
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CheckContext:
    """Everything a check may use. `kube` is None in local mode; `state_dir` is set only there."""

    config: HookConfig
    kube: object | None = None             # kubernetes.client.ApiClient
    state_dir: Path | None = None
    timeout: float = 10.0                  # seconds for one request
    smoke: dict = field(default_factory=dict)   # {"pipeline": bool, "experiment": bool}

    @property
    def endpoints(self):
        return self.config.endpoints

    @property
    def values(self) -> dict:
        return self.config.values

    def component_enabled(self, values_key: str) -> bool:
        return (self.values.get(values_key) or {}).get("enabled", True)


class Check(ABC):
    """Subclass this (or just provide `name`, `skip_reason` and `run`) and register it as an entry point."""

    name: str = "check"
    description: str = ""

    def skip_reason(self, context: CheckContext) -> str | None:
        return None

    @abstractmethod
    def run(self, context: CheckContext) -> list[CheckResult]:
        ...

    def passed(self, component: str, detail: str = "") -> CheckResult:
        return CheckResult(self.name, component, PASSED, detail)

    def failed(self, component: str, cause: str) -> CheckResult:
        return CheckResult(self.name, component, FAILED, cause)

    def warning(self, component: str, detail: str) -> CheckResult:
        return CheckResult(self.name, component, WARNING, detail)
