"""Katib algorithm names and settings mapped onto Optuna samplers, distributions and the median pruner.

    random                RandomSampler                  random_state
    grid                  GridSampler (ends when done)   random_state
    tpe                   TPESampler (Optuna defaults)   random_state, n_startup_trials, n_ei_candidates
    multivariate-tpe      TPESampler(multivariate=True)  random_state, n_startup_trials, n_ei_candidates
    cmaes                 CmaEsSampler                   random_state, sigma, restart_strategy,
                                                         n_startup_trials
    bayesianoptimization  GPSampler (needs torch)        random_state, n_initial_points, base_estimator (GP);
                                                         acq_func, acq_optimizer: accepted, unused (log EI)
    sobol                 QMCSampler(qmc_type="sobol")   random_state
    hyperband             RandomSampler + HyperbandPruner  random_state, resource_name and r_l (required), eta

`hyperband` as Katib defines it: `resource_name` names the parameter that is a trial's budget (epochs,
say) and `r_l` is the most any trial gets (both required); `eta` is the reduction factor (default 3).
Every trial gets r_l of its resource (the parameter's feasibleSpace is not used, as in Katib); Optuna's
HyperbandPruner (max_resource r_l, reduction_factor eta) stops the trials whose reported objective
values lag behind their bracket, which is how Katib's successive halving cuts budgets.
`pbt` is refused: population based training hands checkpoints between running trials, which
ask-and-tell has no place for.

`tpe` is TPESampler with Optuna's defaults, as in Katib's own Optuna suggestion service. Since
Optuna 5 that default is the multivariate TPE for single-objective studies, so `tpe` and
`multivariate-tpe` suggest the same points.

earlyStopping `medianstop` is Optuna's MedianPruner: `min_trials_required` finished trials before it
prunes (default 3), and it judges a trial from its `start_step`-th reported value on (default 4).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

if TYPE_CHECKING:  # spec imports this module to validate algorithms; the types are for annotations only
    from mlplatform.tuning.spec import Algorithm, Experiment, Parameter

BAYESIAN_EXTRA_HINT = "pip install 'mlplatform[bayesian]' (torch CPU build and scipy)"

_TPE = {"random_state": "int", "n_startup_trials": "count", "n_ei_candidates": "positive"}
SETTINGS: dict[str, dict[str, str]] = {
    "random": {"random_state": "int"},
    "grid": {"random_state": "int"},
    "tpe": _TPE,
    "multivariate-tpe": _TPE,
    "cmaes": {
        "random_state": "int",
        "sigma": "positive-number",
        "restart_strategy": "restart",
        "n_startup_trials": "count",
    },
    "bayesianoptimization": {
        "random_state": "int",
        "n_initial_points": "count",
        "base_estimator": "estimator",
        "acq_func": "text",
        "acq_optimizer": "text",
    },
}
SETTINGS["sobol"] = {"random_state": "int"}
SETTINGS["hyperband"] = {"random_state": "int", "resource_name": "text", "eta": "positive", "r_l": "positive-number"}
REFUSED = {
    "pbt": "pbt (population based training) is not supported: its trials hand checkpoints to each other, "
    "which Optuna's ask-and-tell cannot do; use tpe, cmaes, random or hyperband",
    "darts": "NAS is not supported (darts)",
    "enas": "NAS is not supported (enas)",
}
EARLY_STOPPING_SETTINGS = {"medianstop": {"min_trials_required": "positive", "start_step": "positive"}}
_RESTART_STRATEGIES = ("none", "ipop", "bipop")


# --- validation -----------------------------------------------------------------------------------------


def algorithm_problems(algorithm: Algorithm, parameters: tuple[Parameter, ...]) -> list[str]:
    path = "spec.algorithm"
    if algorithm.name in REFUSED:
        return [f"{path}.algorithmName: {REFUSED[algorithm.name]}"]
    if algorithm.name not in SETTINGS:
        return [
            f"{path}.algorithmName: unknown algorithm {algorithm.name!r} (use one of {', '.join(SETTINGS)})"
        ]
    problems = _settings_problems(algorithm, SETTINGS[algorithm.name], f"{path}.algorithmSettings")
    if algorithm.name == "grid":
        problems.extend(_grid_problems(parameters))
    if algorithm.name == "hyperband":
        problems.extend(_hyperband_problems(algorithm, parameters))
    if algorithm.name == "bayesianoptimization" and not bayesian_available():
        problems.append(
            f"{path}.algorithmName: bayesianoptimization runs on Optuna's GPSampler, which needs "
            f"torch; install the extra: {BAYESIAN_EXTRA_HINT}"
        )
    return problems


def early_stopping_problems(early_stopping: Algorithm) -> list[str]:
    path = "spec.earlyStopping"
    if early_stopping.name not in EARLY_STOPPING_SETTINGS:
        known = ", ".join(EARLY_STOPPING_SETTINGS)
        name = early_stopping.name
        return [f"{path}.algorithmName: unknown early stopping algorithm {name!r} (use one of {known})"]
    return _settings_problems(
        early_stopping, EARLY_STOPPING_SETTINGS[early_stopping.name], f"{path}.algorithmSettings"
    )


def _settings_problems(algorithm: Algorithm, allowed: dict[str, str], path: str) -> list[str]:
    problems = []
    for name, value in algorithm.settings.items():
        kind = allowed.get(name)
        if kind is None:
            problems.append(
                f"{path}: {algorithm.name} has no setting {name!r} (it takes {', '.join(allowed) or 'none'})"
            )
        elif not _valid_setting(kind, value):
            problems.append(f"{path}: {name}={value!r} is not {_SETTING_KINDS[kind]}")
    return problems


_SETTING_KINDS = {
    "int": "an integer",
    "count": "an integer >= 0",
    "positive": "an integer >= 1",
    "positive-number": "a number > 0",
    "restart": f"one of {', '.join(_RESTART_STRATEGIES)}",
    "estimator": "GP (the only estimator GPSampler has)",
    "text": "text",
}


def _valid_setting(kind: str, value: str) -> bool:
    if kind in ("int", "count", "positive"):
        try:
            number = int(value)
        except ValueError:
            return False
        return kind == "int" or number >= (0 if kind == "count" else 1)
    if kind == "positive-number":
        try:
            return float(value) > 0 and math.isfinite(float(value))
        except ValueError:
            return False
    if kind == "restart":
        return value in _RESTART_STRATEGIES
    if kind == "estimator":
        return value == "GP"
    return True


def _grid_problems(parameters: tuple[Parameter, ...]) -> list[str]:
    problems = []
    for parameter in parameters:
        if parameter.type == "double" and parameter.step is None:
            problems.append(
                f"spec.parameters ({parameter.name}): the grid of a double needs feasibleSpace.step"
            )
        elif parameter.log:
            problems.append(f"spec.parameters ({parameter.name}): grid does not take logUniform")
    return problems


def _hyperband_problems(algorithm: Algorithm, parameters: tuple[Parameter, ...]) -> list[str]:
    path = "spec.algorithm.algorithmSettings"
    resource = algorithm.settings.get("resource_name")
    numeric = {parameter.name for parameter in parameters if parameter.type in ("int", "double")}
    if resource is None or "r_l" not in algorithm.settings:
        return [
            (
                f"{path}: hyperband needs resource_name (the int or double parameter that is a trial's budget) "
                "and r_l (the most any trial gets); Katib: r_l and resource_name must be set"
            )
        ]
    if resource not in numeric:
        return [f"{path}: resource_name {resource!r} is not an int or double parameter in spec.parameters"]
    eta = algorithm.settings.get("eta", "3")
    if _valid_setting("positive", eta) and int(eta) < 2:
        return [f"{path}: eta={eta} must be at least 2 (the reduction factor)"]
    return []


def hyperband_conflict(experiment: Experiment) -> str | None:
    if experiment.algorithm.name == "hyperband" and experiment.early_stopping is not None:
        return "spec.earlyStopping: hyperband stops trials itself; remove spec.earlyStopping"
    return None


@functools.cache
def bayesian_available() -> bool:
    try:
        import scipy  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --- Optuna objects -------------------------------------------------------------------------------------


class _GridSampler(optuna.samplers.GridSampler):
    """GridSampler without the study.stop() it calls at the end of the grid, which works only inside
    study.optimize(); the engine ends a grid experiment by counting its trials."""

    def after_trial(self, study, trial, state, values) -> None:
        pass


def distributions(parameters: tuple[Parameter, ...]) -> dict:
    """Optuna distributions for `study.ask(fixed_distributions=...)`; list values keep their written form."""
    result = {}
    for parameter in parameters:
        if parameter.type == "double":
            result[parameter.name] = FloatDistribution(
                parameter.low, parameter.high, log=parameter.log, step=parameter.step
            )
        elif parameter.type == "int":
            result[parameter.name] = IntDistribution(
                int(parameter.low), int(parameter.high), log=parameter.log, step=int(parameter.step or 1)
            )
        else:
            result[parameter.name] = CategoricalDistribution(parameter.choices)
    return result


def search_space(experiment: Experiment) -> dict:
    """The distributions the sampler draws from; hyperband's resource parameter is pinned to its max."""
    space = distributions(experiment.parameters)
    if experiment.algorithm.name == "hyperband":
        resource = experiment.parameter(experiment.algorithm.settings["resource_name"])
        budget = float(experiment.algorithm.settings["r_l"])
        if resource.type == "int":
            space[resource.name] = IntDistribution(max(round(budget), 1), max(round(budget), 1))
        else:
            space[resource.name] = FloatDistribution(budget, budget)
    return space


def grid_values(parameter: Parameter) -> list:
    if parameter.type == "int":
        return list(range(int(parameter.low), int(parameter.high) + 1, int(parameter.step or 1)))
    if parameter.type == "double":
        count = math.floor((parameter.high - parameter.low) / parameter.step + 1e-9) + 1
        return [round(parameter.low + index * parameter.step, 12) for index in range(count)]
    return list(parameter.choices)


def grid_size(parameters: tuple[Parameter, ...]) -> int:
    return math.prod(len(grid_values(parameter)) for parameter in parameters)


def make_sampler(experiment: Experiment, trials_so_far: int):
    """The experiment's sampler. `trials_so_far` shifts the seed after a restart so that a seeded
    sampler does not replay the suggestions it made before (grid assigns points by trial number)."""
    name, settings = experiment.algorithm.name, experiment.algorithm.settings
    seed = int(settings["random_state"]) if "random_state" in settings else None
    if name == "grid":
        space = {parameter.name: grid_values(parameter) for parameter in experiment.parameters}
        return _GridSampler(space, seed=seed)
    if seed is not None:
        seed += trials_so_far
    if name in ("random", "hyperband"):
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "sobol":
        return optuna.samplers.QMCSampler(
            qmc_type="sobol", scramble=seed is not None, seed=seed, warn_asynchronous_seeding=False,
            warn_independent_sampling=False,
        )
    if name in ("tpe", "multivariate-tpe"):
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True if name == "multivariate-tpe" else None,  # None: Optuna's default
            n_startup_trials=int(settings.get("n_startup_trials", 10)),
            n_ei_candidates=int(settings.get("n_ei_candidates", 24)),
            constant_liar=True,  # parallel trials: treat running ones as bad so suggestions spread out
        )
    if name == "cmaes":
        options = {}
        if settings.get("restart_strategy", "none") != "none":
            options["restart_strategy"] = settings["restart_strategy"]
        return optuna.samplers.CmaEsSampler(
            seed=seed,
            sigma0=float(settings["sigma"]) if "sigma" in settings else None,
            n_startup_trials=int(settings.get("n_startup_trials", 1)),
            **options,
        )
    if name == "bayesianoptimization":
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=int(settings.get("n_initial_points", 10))
        )
    raise ValueError(f"unknown algorithm {name}")  # validation keeps this unreachable


def make_pruner(experiment: Experiment):
    """HyperbandPruner for hyperband; MedianPruner for medianstop; NopPruner without early stopping."""
    if experiment.algorithm.name == "hyperband":
        settings = experiment.algorithm.settings
        return optuna.pruners.HyperbandPruner(
            min_resource=1,
            max_resource=max(round(float(settings["r_l"])), 1),
            reduction_factor=int(settings.get("eta", "3")),
        )
    if experiment.early_stopping is None:
        return optuna.pruners.NopPruner()
    settings = experiment.early_stopping.settings
    return optuna.pruners.MedianPruner(
        n_startup_trials=int(settings.get("min_trials_required", 3)),
        n_warmup_steps=int(settings.get("start_step", 4)) - 1,  # steps count from 0
    )
