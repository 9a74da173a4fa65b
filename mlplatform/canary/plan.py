"""What a canary rollout changes in the release values: pure functions, the same for Helm and local mode.

    steps = parse_steps("10,25,50,100")
    plan = RolloutPlan.build(values, version="3", model=None, steps=steps)
    plan.step_values(25)     # canary on, the new model on the canary track, 25 % of the traffic
    plan.promote_values()    # stable serves the canary's models; canary off, weight 0
    abort_values(values)     # canary off, weight 0, canary models removed; stable untouched

Values are the release values (contracts §6): `modelServer.models`, `modelServer.canary.{enabled,
weight,models}`. Nothing here edits its input: each function returns new values.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass

from mlplatform.errors import ConfigError

URI_SCHEMES = ("models:/", "s3://", "gs://", "https://", "http://", "file://", "runs:/")
VERSION_NUMBER = re.compile(r"^\d+$")


def parse_steps(text: str) -> tuple[int, ...]:
    """"10,25,50,100" -> (10, 25, 50, 100): whole percents from 1 to 100, strictly increasing."""
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(not part for part in parts):
        raise ConfigError(f"--steps {text!r}: expected comma-separated weights such as 10,25,50,100")
    try:
        steps = tuple(int(part) for part in parts)
    except ValueError:
        raise ConfigError(f"--steps {text!r}: every step must be a whole percent (1-100)") from None
    for step in steps:
        if not 1 <= step <= 100:
            raise ConfigError(f"--steps {text!r}: step {step} is outside 1-100")
    for before, after in itertools.pairwise(steps):
        if after <= before:
            raise ConfigError(f"--steps {text!r}: steps must increase ({after} follows {before})")
    return steps


def model_uri(version: str, model: str | None) -> str:
    """The canary's model URI: a URI as given, or a bare version number of `model` (models:/<model>/<V>)."""
    version = str(version).strip()
    if version.startswith(URI_SCHEMES):
        return version
    if VERSION_NUMBER.match(version):
        if not model:
            raise ConfigError(f"--version {version}: a bare version number needs the model (--model NAME)")
        return f"models:/{model}/{version}"
    raise ConfigError(f"--version {version!r}: expected a model URI (models:/fraud/3, models:/fraud@challenger, "
                      "s3://bucket/prefix) or a version number")


def model_server(values: dict) -> dict:
    server = values.get("modelServer")
    if server is not None and not isinstance(server, dict):
        raise ConfigError("modelServer must be a mapping")
    return server or {}


def canary_section(values: dict) -> dict:
    return model_server(values).get("canary") or {}


def stable_models(values: dict) -> list[dict]:
    models = model_server(values).get("models") or []
    if not isinstance(models, list):
        raise ConfigError("modelServer.models must be a list of models")
    return models


def served_model_name(values: dict, model: str | None) -> str:
    """The served model the rollout replaces: --model, else the stable track's only model."""
    if model:
        return model
    names = [entry.get("name") for entry in stable_models(values) if isinstance(entry, dict)]
    if len(names) == 1:
        return names[0]
    served = ", ".join(str(name) for name in names) or "none"
    raise ConfigError(f"name the model to roll out with --model (the stable track serves: {served})")


def canary_models(values: dict, name: str, uri: str, implementation: str | None = None) -> list[dict]:
    """The stable models with `name` now at `uri` (added when the stable track does not serve it), served
    by `implementation` when given (else the stable entry's runtime)."""
    models, found = [], False
    for entry in stable_models(values):
        entry = dict(entry)
        if entry.get("name") == name:
            entry["uri"], found = uri, True
            if implementation:
                entry["implementation"] = implementation
        models.append(entry)
    if not found:
        models.append({"name": name, "uri": uri, **({"implementation": implementation} if implementation else {})})
    return models


def _with_canary(values: dict, **canary) -> dict:
    result = copy.deepcopy(values)
    server = result.setdefault("modelServer", {})
    server["canary"] = {**(server.get("canary") or {}), **canary}
    return result


def abort_values(values: dict) -> dict:
    """Traffic back to stable: canary off, weight 0, canary models removed; the stable track untouched."""
    return _with_canary(values, enabled=False, weight=0, models=[])


def promote_values(values: dict, current: dict | None = None) -> dict:
    """The stable track serves the canary's models; canary off, weight 0. `current` is what the release
    runs now (its computed values, chart defaults included), when `values` are only the user's."""
    current = values if current is None else current
    promoted = canary_section(current).get("models") or []
    if not canary_section(current).get("enabled") or not promoted:
        raise ConfigError("there is no canary to promote (modelServer.canary is disabled or names no models)")
    result = abort_values(values)
    result["modelServer"]["models"] = copy.deepcopy(promoted)
    return result


@dataclass(frozen=True)
class RolloutPlan:
    """One rollout: the values it starts from, the canary's models and the weights it steps through."""

    base: dict
    model: str
    uri: str
    steps: tuple[int, ...]

    stable: tuple[dict, ...] = ()
    implementation: str | None = None

    @classmethod
    def build(cls, values: dict, version: str, model: str | None, steps: tuple[int, ...],
              current: dict | None = None, implementation: str | None = None) -> RolloutPlan:
        """`values` are what each step starts from (a release's user values); `current` what the release
        runs now, chart defaults included (its computed values), when they differ: the stable models."""
        current = values if current is None else current
        name = served_model_name(current, model)
        return cls(base=copy.deepcopy(values), model=name, uri=model_uri(version, name), steps=steps,
                   stable=tuple(copy.deepcopy(stable_models(current))), implementation=implementation)

    @property
    def canary_models(self) -> list[dict]:
        return canary_models({"modelServer": {"models": list(self.stable)}}, self.model, self.uri, self.implementation)

    @property
    def promotes(self) -> bool:
        """A rollout that reaches 100 % promotes; one that stops below holds the canary for `mlp canary promote`."""
        return self.steps[-1] == 100

    def step_values(self, weight: int) -> dict:
        return _with_canary(self.base, enabled=True, weight=weight, models=self.canary_models)

    def promote_values(self) -> dict:
        return promote_values(self.step_values(self.steps[-1]))

    def abort_values(self) -> dict:
        return abort_values(self.base)
