"""What a component's launcher produces: the processes to start, where they answer, what to scrape."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlplatform.local.state import StateDir
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.net import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ScrapeTarget:
    """A metrics endpoint for Prometheus, with the labels of contracts §1 (component, track)."""

    address: str
    path: str
    labels: dict[str, str]


@dataclass(frozen=True)
class PlannedProcess:
    """One process to start; `name` is also its component name in endpoints.json."""

    spec: ProcessSpec
    url: str
    metrics: ScrapeTarget | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class Launch:
    """What every launcher sees: the state dir, the options, the shared environment and the plan so far."""

    state: StateDir
    scrape_interval: float
    parallel_workers: int
    env: dict[str, str]
    planned: dict[str, PlannedProcess] = field(default_factory=dict)
    auth_args: tuple[str, ...] = ()   # the pipeline controller's and tuning service's --auth-mode, --auth-tokens

    def url_of(self, name: str) -> str | None:
        planned = self.planned.get(name)
        return planned.url if planned else None


class Unavailable(Exception):
    """A component that cannot start here (its module is not installed yet); the reason is the message."""


def local_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def new_port() -> int:
    return free_port(HOST)
