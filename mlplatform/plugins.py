"""Extension points: Python entry points that third-party packages add to.

Groups:
  mlplatform.routers     traffic routers (set and read the canary weight)
  mlplatform.registries  model registration backends
  mlplatform.checks      validation checks

Each entry point names a class (or factory). `load(group, name)` returns it; `available(group)` lists
the installed names.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from mlplatform.errors import ConfigError

GROUPS = ("mlplatform.routers", "mlplatform.registries", "mlplatform.checks")


def available(group: str) -> dict[str, object]:
    """name -> entry point, for every installed plugin of `group`."""
    if group not in GROUPS:
        raise ValueError(f"unknown plugin group {group!r}; known: {GROUPS}")
    return {point.name: point for point in entry_points(group=group)}


def load(group: str, name: str):
    """The object behind plugin `name` of `group`; a clear error names the installed choices."""
    points = available(group)
    if name not in points:
        choices = ", ".join(sorted(points)) or "none installed"
        raise ConfigError(f"no {group.split('.')[-1][:-1]} plugin named {name!r} (available: {choices})")
    return points[name].load()


def load_all(group: str) -> dict[str, object]:
    return {name: point.load() for name, point in sorted(available(group).items())}
