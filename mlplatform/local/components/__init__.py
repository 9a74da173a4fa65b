"""The components local mode can start, and the launcher of each of their processes.

A component (the unit `--components` selects, named as in contracts §1) runs one or more processes.
Launchers run in CATALOGUE order, so a launcher can use the addresses of the processes planned
before it (nginx needs the two MLServers, Prometheus needs every scrape target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from mlplatform.local.components import dashboard, mlserver, nginx, prometheus, registry, s3, services
from mlplatform.local.components.base import Launch, PlannedProcess


@dataclass(frozen=True)
class Component:
    name: str
    launchers: tuple[tuple[str, Callable[[Launch], PlannedProcess]], ...]  # (process name, launcher)
    requires: tuple[str, ...] = ()


CATALOGUE = (
    Component(s3.NAME, ((s3.NAME, s3.plan),)),
    Component(registry.NAME, ((registry.NAME, registry.plan),), requires=(s3.NAME,)),
    Component(mlserver.COMPONENT, (
        *((mlserver.process_name(track), partial(mlserver.plan, track=track)) for track in mlserver.TRACKS),
        (nginx.NAME, nginx.plan),
    ), requires=(s3.NAME,)),
    Component(services.PIPELINES, ((services.PIPELINES, services.plan_pipelines),), requires=(s3.NAME,)),
    Component(services.TRAINING, ((services.TRAINING, services.plan_training),)),
    Component(services.TUNING, ((services.TUNING, services.plan_tuning),)),
    Component(prometheus.NAME, ((prometheus.NAME, prometheus.plan),)),
    Component(dashboard.NAME, ((dashboard.NAME, dashboard.plan),)),
)
COMPONENT_NAMES = tuple(component.name for component in CATALOGUE)


def with_requirements(selected: tuple[str, ...]) -> list[Component]:
    """The selected components plus what they require, in catalogue order."""
    wanted = set(selected)
    for component in reversed(CATALOGUE):   # requirements come earlier in the catalogue
        if component.name in wanted:
            wanted.update(component.requires)
    return [component for component in CATALOGUE if component.name in wanted]
