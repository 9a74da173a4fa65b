"""Katib Experiment specs: reading, Katib's defaults, and validation that reports every problem.

`parse_experiment(document)` takes a `kubeflow.org/v1beta1` Experiment, or the plain form (the
Experiment's `spec` with a `name` beside its fields), and returns an `Experiment`; or raises
`SpecError` listing every problem it found, each prefixed with the path of the field at fault.

`Experiment.manifest` is the full Experiment with Katib's defaults filled in. It is what the service
stores, shows and re-parses after a restart or a PATCH, so it is the one source of truth.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from mlplatform.errors import ConfigError
from mlplatform.tuning.algorithms import algorithm_problems, early_stopping_problems, hyperband_conflict

API_VERSION = "kubeflow.org/v1beta1"
KIND = "Experiment"
NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME_LENGTH = 54  # trial names add "-" and 8 characters and must stay DNS-1123 labels (63)

PARAMETER_TYPES = ("double", "int", "discrete", "categorical")
DISTRIBUTIONS = ("uniform", "logUniform")
OBJECTIVE_TYPES = ("minimize", "maximize")
METRIC_STRATEGIES = ("min", "max", "latest")
COLLECTOR_KINDS = ("StdOut", "File", "Push")
FILE_FORMATS = ("TEXT", "JSON")
DEFAULT_PARALLEL_TRIALS = 3
NAS_REFUSED = (
    "spec.nasConfig: NAS is not supported (neural architecture search, darts or enas, needs Katib's NAS "
    "suggestion services); tune hyperparameters with spec.parameters"
)
RESUME_POLICIES = ("Never", "LongRunning", "FromVolume")  # Katib's; Never is its default
# Katib's default success and failure conditions for a batch Job trial (GJSON paths on the Job).
JOB_SUCCESS_CONDITION = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
JOB_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
COUNT_FIELDS = ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount")  # what PATCH may change

# Katib's default metrics filter: `name=value`, value a number with optional exponent.
DEFAULT_METRICS_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"

JOB_API_VERSION = "batch/v1"
PIPELINE_RUN_API_VERSION = "pipelines.mlplatform.io/v1alpha1"
TRAINING_API_VERSION = "kubeflow.org/v1"
# The Training Operator's kinds: where their replicas are, and the container it requires in each.
TRAINING_KINDS = {"PyTorchJob": ("pytorchReplicaSpecs", "pytorch"), "TFJob": ("tfReplicaSpecs", "tensorflow")}
TRIAL_KINDS = {("Job", JOB_API_VERSION), ("PipelineRun", PIPELINE_RUN_API_VERSION),
               *((kind, TRAINING_API_VERSION) for kind in TRAINING_KINDS)}
# Katib's defaults for Training Operator trials: the job's Succeeded/Failed conditions, metrics from its master.
TRAINING_SUCCESS_CONDITION = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
TRAINING_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
TRAINING_PRIMARY_POD_LABELS = {"training.kubeflow.org/job-role": "master"}
# The one GJSON form a trial condition may take here: a condition of the trialSpec's status that is True.
TRIAL_CONDITION = re.compile(r'^status\.conditions\.#\(type=="(\w+)"\)#\|#\(status=="True"\)#$')

TRIAL_PARAMETER_PLACEHOLDER = re.compile(r"\$\{trialParameters\.([^}]*)\}")
# Katib's trial metadata references: ${trialSpec.Name}, ${trialSpec.Labels[key]}, ...
TRIAL_METADATA_REFERENCE = re.compile(
    r"^\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels\[(.+)\]|Annotations\[(.+)\])\}$"
)


ANY = None  # a field whose content is not checked here (a Job, labels, NAS settings)
_SETTINGS = [{"name": ANY, "value": ANY}]
_ALGORITHM = {"algorithmName": ANY, "algorithmSettings": _SETTINGS}
# Katib's ExperimentSpec, field by field (as its CRD declares them): anything else is refused, as the API
# server refuses unknown fields under strict field validation (kubectl's default), never stored.
SPEC_FIELDS = {
    "parameters": [{
        "name": ANY, "parameterType": ANY,
        "feasibleSpace": {"min": ANY, "max": ANY, "step": ANY, "list": ANY, "distribution": ANY},
    }],
    "objective": {
        "type": ANY, "goal": ANY, "objectiveMetricName": ANY, "additionalMetricNames": ANY,
        "metricStrategies": [{"name": ANY, "value": ANY}],
    },
    "algorithm": _ALGORITHM,
    "earlyStopping": _ALGORITHM,
    "trialTemplate": {
        "retain": ANY, "trialSpec": ANY,
        "configMap": {"configMapName": ANY, "configMapNamespace": ANY, "templatePath": ANY},
        "trialParameters": [{"name": ANY, "description": ANY, "reference": ANY}],
        "primaryPodLabels": ANY, "primaryContainerName": ANY, "successCondition": ANY, "failureCondition": ANY,
    },
    "parallelTrialCount": ANY, "maxTrialCount": ANY, "maxFailedTrialCount": ANY,
    "metricsCollectorSpec": {
        "source": {
            "fileSystemPath": {"path": ANY, "kind": ANY, "format": ANY},
            "filter": {"metricsFormat": ANY},
            "httpGet": ANY,
        },
        "collector": {"kind": ANY, "customCollector": ANY},
    },
    "nasConfig": ANY,
    "resumePolicy": ANY,
}
TOP_LEVEL_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")


def unknown_fields(node: Any, schema: Any, path: str) -> list[str]:
    """`path.field: unknown field` for every field of `node` that `schema` (SPEC_FIELDS' shape) lacks."""
    if schema is ANY:
        return []
    if isinstance(schema, list):
        items = node if isinstance(node, list) else []
        return [problem for index, item in enumerate(items) for problem in unknown_fields(item, schema[0], f"{path}[{index}]")]
    if not isinstance(node, dict):
        return []
    problems = []
    for key, value in node.items():
        if key not in schema:
            problems.append(f"{path}.{key}: unknown field (Katib's {path.rsplit('.', 1)[-1] or 'spec'} has "
                            f"{', '.join(schema)})")
        else:
            problems.extend(unknown_fields(value, schema[key], f"{path}.{key}"))
    return problems


class SpecError(ConfigError):
    """The experiment cannot run as written; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"invalid experiment: {'; '.join(problems)}")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # double | int | discrete | categorical
    low: float | None = None  # double and int
    high: float | None = None
    step: float | None = None
    log: bool = False  # feasibleSpace.distribution: logUniform
    choices: tuple[str, ...] = ()  # discrete and categorical, as written


@dataclass(frozen=True)
class Objective:
    type: str  # minimize | maximize
    metric: str
    additional_metrics: tuple[str, ...]
    goal: float | None
    strategies: dict[str, str]  # metric name -> min | max | latest

    @property
    def metric_names(self) -> tuple[str, ...]:
        return (self.metric, *self.additional_metrics)

    def better(self, candidate: float, incumbent: float) -> bool:
        return candidate < incumbent if self.type == "minimize" else candidate > incumbent

    def reached(self, value: float) -> bool:
        if self.goal is None:
            return False
        return value <= self.goal if self.type == "minimize" else value >= self.goal


@dataclass(frozen=True)
class Algorithm:
    name: str
    settings: dict[str, str]


@dataclass(frozen=True)
class MetricsCollector:
    kind: str  # StdOut | File | Push
    filters: tuple[str, ...] = (DEFAULT_METRICS_FILTER,)
    path: str | None = None  # File
    format: str = "TEXT"  # File: TEXT | JSON


@dataclass(frozen=True)
class TrialParameter:
    name: str
    reference: str  # a search-space parameter, or a ${trialSpec.*} metadata reference


@dataclass(frozen=True)
class TrialTemplate:
    kind: str  # Job | PipelineRun
    trial_spec: dict
    parameters: tuple[TrialParameter, ...]
    primary_container: str | None  # Job, PyTorchJob, TFJob
    retain: bool = False
    # PyTorchJob, TFJob: the conditions (types) that end a trial, and the labels of the pod with its metrics
    success_condition: str | None = None
    failure_condition: str | None = None
    primary_pod_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Experiment:
    name: str
    namespace: str
    parameters: tuple[Parameter, ...]
    objective: Objective
    algorithm: Algorithm
    early_stopping: Algorithm | None
    collector: MetricsCollector
    template: TrialTemplate
    parallel_trials: int
    max_trials: int | None
    max_failed_trials: int | None
    manifest: dict
    resume_policy: str = "Never"

    @property
    def key(self) -> str:
        """How the service stores it: names are unique per namespace, as in Kubernetes."""
        return experiment_key(self.namespace, self.name)

    def parameter(self, name: str) -> Parameter:
        return next(parameter for parameter in self.parameters if parameter.name == name)


def experiment_key(namespace: str, name: str) -> str:
    """`<namespace>.<name>`: unambiguous, since neither a namespace nor an experiment name has a dot."""
    return f"{namespace}.{name}"


def load_document(body: bytes) -> Any:
    """The request body as data: JSON, or YAML holding exactly one document."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        documents = [document for document in yaml.safe_load_all(text) if document is not None]
    except yaml.YAMLError as error:
        raise SpecError([f"the body is neither JSON nor YAML: {error}".replace("\n", " ")]) from None
    if len(documents) != 1:
        raise SpecError([f"the body must hold exactly one Experiment, found {len(documents)} YAML documents"])
    return documents[0]


def parse_experiment(document: Any) -> Experiment:
    """A validated Experiment with Katib's defaults, or SpecError listing every problem."""
    problems: list[str] = []
    manifest = _manifest(document, problems)
    if manifest is None:
        raise SpecError(problems)
    spec = manifest["spec"]
    name = manifest["metadata"].get("name")
    if spec.get("nasConfig") is not None:
        raise SpecError([NAS_REFUSED])
    problems.extend(unknown_fields(spec, SPEC_FIELDS, "spec"))
    resume_policy = _resume_policy(spec, problems)
    parameters = _parameters(spec.get("parameters"), problems)
    objective = _objective(spec, problems)
    algorithm = _algorithm(spec.get("algorithm"), "spec.algorithm", problems)
    early_stopping = _early_stopping(spec.get("earlyStopping"), problems)
    template = _trial_template(spec.get("trialTemplate"), parameters, declared_parameter_names(spec), problems)
    collector = _collector(spec, template, problems)
    counts = _counts(spec, problems)
    if algorithm is not None and parameters is not None:
        problems.extend(algorithm_problems(algorithm, parameters))
        if early_stopping is not None:
            problems.extend(early_stopping_problems(early_stopping))
    if problems:
        raise SpecError(problems)
    experiment = Experiment(
        name=name,
        namespace=manifest["metadata"]["namespace"],
        parameters=parameters,
        objective=objective,
        algorithm=algorithm,
        early_stopping=early_stopping,
        collector=collector,
        template=template,
        parallel_trials=counts[0],
        max_trials=counts[1],
        max_failed_trials=counts[2],
        manifest=manifest,
        resume_policy=resume_policy,
    )
    conflict = hyperband_conflict(experiment)
    if conflict:
        raise SpecError([conflict])
    return experiment


# --- the document -------------------------------------------------------------------------------


def _manifest(document: Any, problems: list[str]) -> dict | None:
    """The full Experiment (from either form), its metadata checked and Katib's defaults applied."""
    if not isinstance(document, dict):
        problems.append("the body must be an Experiment object (a mapping)")
        return None
    if "apiVersion" in document or "kind" in document:
        if document.get("apiVersion") != API_VERSION or document.get("kind") != KIND:
            problems.append(
                f"apiVersion/kind must be {API_VERSION}/{KIND}, "
                f"not {document.get('apiVersion')}/{document.get('kind')}"
            )
            return None
        manifest = copy.deepcopy(document)
    else:  # the plain form: the spec's fields with a name (and optionally a namespace) beside them
        plain = copy.deepcopy(document)
        metadata = {"name": plain.pop("name", None)}
        if "namespace" in plain:
            metadata["namespace"] = plain.pop("namespace")
        manifest = {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": plain}
    manifest.pop("status", None)
    for key in manifest:
        if key not in TOP_LEVEL_FIELDS:
            problems.append(f"{key}: unknown field (an Experiment has {', '.join(TOP_LEVEL_FIELDS)})")
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict):
        metadata = manifest["metadata"] = {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        problems.append("metadata.name: the experiment needs a name")
    elif len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.match(name):
        problems.append(
            f"metadata.name: {name!r} must be lowercase letters, digits and '-', "
            f"start and end alphanumeric, at most {MAX_NAME_LENGTH} characters"
        )
    metadata.setdefault("namespace", "default")
    if not isinstance(manifest.get("spec"), dict):
        problems.append("spec: missing or not a mapping")
        return None
    return manifest


def _resume_policy(spec: dict, problems: list[str]) -> str:
    policy = spec.setdefault("resumePolicy", "Never")
    if policy not in RESUME_POLICIES:
        problems.append(
            f"spec.resumePolicy: {policy!r} is an invalid ResumePolicyType (use one of {', '.join(RESUME_POLICIES)})"
        )
    return policy


# --- parameters -----------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def declared_parameter_names(spec: dict) -> set[str]:
    """Every name spec.parameters declares, accepted or not: references to a refused parameter are not
    reported a second time as unknown."""
    items = spec.get("parameters") if isinstance(spec.get("parameters"), list) else []
    return {item["name"] for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)}


def _parameters(node: Any, problems: list[str]) -> tuple[Parameter, ...] | None:
    if not isinstance(node, list) or not node:
        problems.append("spec.parameters: list at least one parameter to tune")
        return None
    parameters, seen = [], set()
    for index, item in enumerate(node):
        path = f"spec.parameters[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: must be a mapping with name, parameterType and feasibleSpace")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            problems.append(f"{path}.name: missing")
            name = f"#{index}"
        elif name in seen:
            problems.append(f"{path}.name: {name!r} is defined twice")
        seen.add(name)
        parameter = _parameter(name, item, f"{path} ({name})", problems)
        if parameter is not None:
            parameters.append(parameter)
    return tuple(parameters)


def _parameter(name: str, item: dict, path: str, problems: list[str]) -> Parameter | None:
    kind = item.get("parameterType")
    space = item.get("feasibleSpace")
    if kind not in PARAMETER_TYPES:
        problems.append(f"{path}: parameterType {kind!r} is not one of {', '.join(PARAMETER_TYPES)}")
        return None
    if not isinstance(space, dict):
        problems.append(f"{path}: feasibleSpace is missing")
        return None
    if kind in ("discrete", "categorical"):
        return _list_parameter(name, kind, space, path, problems)
    return _range_parameter(name, kind, space, path, problems)


def _list_parameter(name: str, kind: str, space: dict, path: str, problems: list[str]) -> Parameter | None:
    values = space.get("list")
    if not isinstance(values, list) or not values:
        problems.append(f"{path}: feasibleSpace.list must list at least one value")
        return None
    choices = tuple(str(value) for value in values)
    if len(set(choices)) != len(choices):
        problems.append(f"{path}: feasibleSpace.list has duplicate values")
    if kind == "discrete":
        for value in choices:
            if _number(value) is None:
                problems.append(
                    f"{path}: discrete value {value!r} is not a number (use categorical for labels)"
                )
    return Parameter(name=name, type=kind, choices=choices)


def _range_parameter(name: str, kind: str, space: dict, path: str, problems: list[str]) -> Parameter | None:
    read = _integer if kind == "int" else _number
    low, high = read(space.get("min")), read(space.get("max"))
    ok = True
    for bound, value in (("min", low), ("max", high)):
        if value is None:
            problems.append(
                f"{path}: feasibleSpace.{bound} {space.get(bound)!r} is not "
                f"{'an integer' if kind == 'int' else 'a number'}"
            )
            ok = False
    if ok and low > high:
        problems.append(
            f"{path}: feasibleSpace.min {space.get('min')} is greater than max {space.get('max')}"
        )
        ok = False
    step = None
    if space.get("step") not in (None, ""):
        step = read(space.get("step"))
        if step is None or step <= 0:
            problems.append(
                f"{path}: feasibleSpace.step {space.get('step')!r} must be a positive "
                f"{'integer' if kind == 'int' else 'number'}"
            )
            ok = False
    distribution = space.setdefault("distribution", "uniform") or "uniform"
    if distribution not in DISTRIBUTIONS:
        problems.append(
            f"{path}: feasibleSpace.distribution {distribution!r} is not supported "
            f"(use one of {', '.join(DISTRIBUTIONS)})"
        )
        ok = False
    log = distribution == "logUniform"
    if log and low is not None and low <= 0:
        problems.append(f"{path}: logUniform needs min > 0")
        ok = False
    if log and step is not None and not (kind == "int" and step == 1):
        problems.append(f"{path}: logUniform cannot be combined with a step")
        ok = False
    if not ok:
        return None
    return Parameter(name=name, type=kind, low=low, high=high, step=step, log=log)


# --- objective, algorithm, counts -------------------------------------------------------------------


def _objective(spec: dict, problems: list[str]) -> Objective | None:
    node = spec.get("objective")
    if not isinstance(node, dict):
        problems.append("spec.objective: missing (type and objectiveMetricName are required)")
        return None
    ok = True
    kind = node.get("type")
    if kind not in OBJECTIVE_TYPES:
        problems.append(f"spec.objective.type: {kind!r} is not one of {', '.join(OBJECTIVE_TYPES)}")
        ok = False
    metric = node.get("objectiveMetricName")
    if not isinstance(metric, str) or not metric.strip():
        problems.append("spec.objective.objectiveMetricName: missing; name the metric to optimise")
        ok = False
    additional = node.get("additionalMetricNames") or []
    if not isinstance(additional, list) or not all(isinstance(name, str) and name for name in additional):
        problems.append("spec.objective.additionalMetricNames: must be a list of metric names")
        additional, ok = [], False
    elif metric in additional:
        problems.append(f"spec.objective.additionalMetricNames: repeats the objective metric {metric!r}")
        ok = False
    goal = node.get("goal")
    if goal is not None and _number(goal) is None:
        problems.append(f"spec.objective.goal: {goal!r} is not a number")
        ok = False
    strategies = _metric_strategies(node, kind, [metric, *additional], problems)
    if not ok or strategies is None:
        return None
    return Objective(
        type=kind,
        metric=metric,
        additional_metrics=tuple(additional),
        goal=None if goal is None else _number(goal),
        strategies=strategies,
    )


def _metric_strategies(node: dict, kind: str, metrics: list, problems: list[str]) -> dict | None:
    """Katib's metricStrategies: how each metric's value is read; unset ones follow the objective type."""
    strategies = {}
    for index, item in enumerate(node.get("metricStrategies") or []):
        path = f"spec.objective.metricStrategies[{index}]"
        if not isinstance(item, dict) or item.get("value") not in METRIC_STRATEGIES:
            problems.append(f"{path}: value must be one of {', '.join(METRIC_STRATEGIES)}")
            return None
        if item.get("name") not in metrics:
            problems.append(f"{path}: {item.get('name')!r} is not the objective or an additional metric")
            return None
        strategies[item["name"]] = item["value"]
    default = {"minimize": "min", "maximize": "max"}.get(kind, "latest")
    for metric in metrics:
        strategies.setdefault(metric, default)
    node["metricStrategies"] = [{"name": name, "value": value} for name, value in strategies.items()]
    return strategies


def _settings(node: Any, path: str, problems: list[str]) -> dict[str, str]:
    settings = {}
    for index, item in enumerate(node or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append(f"{path}[{index}]: must be a mapping with name and value")
            continue
        settings[item["name"]] = "" if item.get("value") is None else str(item["value"])
    return settings


def _algorithm(node: Any, path: str, problems: list[str]) -> Algorithm | None:
    if not isinstance(node, dict) or not isinstance(node.get("algorithmName"), str):
        problems.append(f"{path}.algorithmName: missing")
        return None
    return Algorithm(
        name=node["algorithmName"],
        settings=_settings(node.get("algorithmSettings"), f"{path}.algorithmSettings", problems),
    )


def _early_stopping(node: Any, problems: list[str]) -> Algorithm | None:
    if node is None:
        return None
    return _algorithm(node, "spec.earlyStopping", problems)


def _counts(spec: dict, problems: list[str]) -> tuple[int, int | None, int | None]:
    if spec.get("parallelTrialCount") is None:  # Katib's default, never above maxTrialCount
        most = _integer(spec.get("maxTrialCount"))
        spec["parallelTrialCount"] = (
            min(DEFAULT_PARALLEL_TRIALS, most) if most and most > 0 else DEFAULT_PARALLEL_TRIALS
        )
    values = {}
    for field, minimum in (("parallelTrialCount", 1), ("maxTrialCount", 1), ("maxFailedTrialCount", 0)):
        raw = spec.get(field)
        if raw is None:
            values[field] = None
            continue
        value = _integer(raw)
        if value is None or value < minimum:
            problems.append(f"spec.{field}: {raw!r} must be an integer >= {minimum}")
        values[field] = value
    parallel, most, failed = (
        values["parallelTrialCount"],
        values["maxTrialCount"],
        values["maxFailedTrialCount"],
    )
    if most is not None and parallel is not None and parallel > most:
        problems.append(f"spec.parallelTrialCount: {parallel} is greater than maxTrialCount {most}")
    if most is not None and failed is not None and failed > most:
        problems.append(f"spec.maxFailedTrialCount: {failed} is greater than maxTrialCount {most}")
    return parallel or DEFAULT_PARALLEL_TRIALS, most, failed


# --- metrics collector ----------------------------------------------------------------------------------


def _collector(spec: dict, template: TrialTemplate | None, problems: list[str]) -> MetricsCollector | None:
    node = spec.setdefault("metricsCollectorSpec", {})
    if not isinstance(node, dict):
        problems.append("spec.metricsCollectorSpec: must be a mapping")
        return None
    collector = node.setdefault("collector", {"kind": "StdOut"})
    kind = collector.get("kind") if isinstance(collector, dict) else None
    source = node.get("source") or {}
    if kind not in COLLECTOR_KINDS:
        problems.append(
            f"spec.metricsCollectorSpec.collector.kind: {kind!r} is not supported "
            f"(use one of {', '.join(COLLECTOR_KINDS)})"
        )
        return None
    if template is not None and template.kind == "PipelineRun" and (kind != "StdOut" or source):
        problems.append(
            "spec.metricsCollectorSpec: pipeline trials report through their Metrics artifacts; "
            "leave the collector unset"
        )
        return None
    if template is not None and template.kind in TRAINING_KINDS and kind == "File":
        problems.append(
            f"spec.metricsCollectorSpec.collector.kind: File is not supported for {template.kind} trials; "
            "use StdOut (the master's log) or Push"
        )
        return None
    filters = _filters(source, problems)
    if kind != "File":
        return MetricsCollector(kind=kind, filters=filters)
    file_path = source.get("fileSystemPath") or {}
    path = file_path.get("path")
    file_format = file_path.get("format") or "TEXT"
    if not isinstance(path, str) or not path:
        problems.append(
            "spec.metricsCollectorSpec.source.fileSystemPath.path: the File collector needs the file's path"
        )
    if file_path.get("kind", "File") != "File":
        problems.append("spec.metricsCollectorSpec.source.fileSystemPath.kind: must be File")
    if file_format not in FILE_FORMATS:
        problems.append(
            f"spec.metricsCollectorSpec.source.fileSystemPath.format: {file_format!r} "
            f"is not one of {', '.join(FILE_FORMATS)}"
        )
    if file_format == "JSON" and (source.get("filter") or {}).get("metricsFormat"):
        problems.append("spec.metricsCollectorSpec.source.filter: a JSON file takes no metricsFormat")
    return MetricsCollector(kind="File", filters=filters, path=path, format=file_format)


def _filters(source: dict, problems: list[str]) -> tuple[str, ...]:
    formats = (source.get("filter") or {}).get("metricsFormat") or []
    if not isinstance(formats, list):
        problems.append(
            "spec.metricsCollectorSpec.source.filter.metricsFormat: must be a list of regular expressions"
        )
        return (DEFAULT_METRICS_FILTER,)
    for index, pattern in enumerate(formats):
        path = f"spec.metricsCollectorSpec.source.filter.metricsFormat[{index}]"
        try:
            groups = re.compile(str(pattern)).groups
        except re.error as error:
            problems.append(f"{path}: {pattern!r} is not a valid regular expression ({error})")
            continue
        if groups < 2:
            problems.append(f"{path}: {pattern!r} needs two groups, the metric name and its value")
    return tuple(str(pattern) for pattern in formats) or (DEFAULT_METRICS_FILTER,)


# --- trial template ------------------------------------------------------------------------------------


def _trial_template(
    node: Any, parameters: tuple[Parameter, ...] | None, declared: set[str], problems: list[str]
) -> TrialTemplate | None:
    if not isinstance(node, dict):
        problems.append("spec.trialTemplate: missing (it says what each trial runs)")
        return None
    if "configMap" in node and "trialSpec" not in node:
        problems.append("spec.trialTemplate.configMap: not supported; put the trialSpec inline")
        return None
    trial_spec = node.get("trialSpec")
    if not isinstance(trial_spec, dict):
        problems.append("spec.trialTemplate.trialSpec: missing")
        return None
    kind, api_version = trial_spec.get("kind"), trial_spec.get("apiVersion")
    if (kind, api_version) not in TRIAL_KINDS:
        supported = " or ".join(f"{a}/{k}" for k, a in sorted(TRIAL_KINDS))
        problems.append(
            f"spec.trialTemplate.trialSpec: {api_version}/{kind} is not supported (use {supported})"
        )
        return None
    trial_parameters = _trial_parameters(node.get("trialParameters"), parameters, declared, problems)
    _check_placeholders(trial_spec, trial_parameters, problems)
    primary, training = None, {}
    if kind == "Job":
        primary = _primary_container(node, trial_spec, problems)
        node.setdefault("successCondition", JOB_SUCCESS_CONDITION)
        node.setdefault("failureCondition", JOB_FAILURE_CONDITION)
    elif kind in TRAINING_KINDS:
        primary, training = _training_job(node, trial_spec, problems)
    else:
        _check_pipeline_run(trial_spec, problems)
    return TrialTemplate(
        kind=kind,
        trial_spec=trial_spec,
        parameters=trial_parameters,
        primary_container=primary,
        retain=bool(node.get("retain", False)),
        **training,
    )


def _trial_parameters(
    node: Any, parameters: tuple[Parameter, ...] | None, declared: set[str], problems: list[str]
) -> tuple[TrialParameter, ...]:
    known = {parameter.name for parameter in parameters or ()}
    result = []
    for index, item in enumerate(node or []):
        path = f"spec.trialTemplate.trialParameters[{index}]"
        if not isinstance(item, dict) or not item.get("name") or not item.get("reference"):
            problems.append(f"{path}: needs a name and a reference")
            continue
        reference = str(item["reference"])
        if reference in declared - known:  # its parameter was refused above: one problem is enough
            result.append(TrialParameter(name=str(item["name"]), reference=reference))
            continue
        if reference not in known and not TRIAL_METADATA_REFERENCE.match(reference):
            if parameters is not None:
                problems.append(
                    f"{path} ({item['name']}): reference {reference!r} is not a parameter in "
                    f"spec.parameters ({', '.join(sorted(known))}) nor a ${{trialSpec.*}} reference"
                )
            continue
        result.append(TrialParameter(name=str(item["name"]), reference=reference))
    return tuple(result)


def _check_placeholders(
    trial_spec: dict, trial_parameters: tuple[TrialParameter, ...], problems: list[str]
) -> None:
    text = json.dumps(trial_spec)
    used = set(TRIAL_PARAMETER_PLACEHOLDER.findall(text))
    declared = {parameter.name for parameter in trial_parameters}
    for name in sorted(used - declared):
        problems.append(
            f"spec.trialTemplate.trialSpec: ${{trialParameters.{name}}} refers to an unknown trial "
            f"parameter (declared: {', '.join(sorted(declared)) or 'none'})"
        )
    for name in sorted(declared - used):
        problems.append(f"spec.trialTemplate.trialParameters: {name!r} is never used in the trialSpec")


def _containers(trial_spec: dict) -> list:
    pod = ((trial_spec.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = pod.get("containers")
    return containers if isinstance(containers, list) else []


def _primary_container(node: dict, trial_spec: dict, problems: list[str]) -> str | None:
    containers = [c for c in _containers(trial_spec) if isinstance(c, dict)]
    names = [c.get("name") for c in containers]
    if not containers:
        problems.append(
            "spec.trialTemplate.trialSpec.spec.template.spec.containers: the Job has no containers"
        )
        return None
    primary = node.get("primaryContainerName")
    if primary is None and len(containers) == 1:
        primary = names[0]
    if primary not in names:
        problems.append(
            f"spec.trialTemplate.primaryContainerName: {primary!r} names none of the Job's "
            f"containers ({', '.join(map(str, names))})"
        )
        return None
    container = containers[names.index(primary)]
    argv = (container.get("command") or []) + (container.get("args") or [])
    if not container.get("command") or not all(isinstance(arg, (str, int, float)) for arg in argv):
        problems.append(
            f"spec.trialTemplate.trialSpec: container {primary!r} needs a command "
            "(a list of strings): the service runs it and reads its output"
        )
    return primary


def _training_job(node: dict, trial_spec: dict, problems: list[str]) -> tuple[str | None, dict]:
    """A PyTorchJob or TFJob trialSpec, with Katib's defaults for Training Operator trials."""
    replicas_field, container_name = TRAINING_KINDS[trial_spec["kind"]]
    primary = node.setdefault("primaryContainerName", container_name)
    node.setdefault("successCondition", TRAINING_SUCCESS_CONDITION)
    node.setdefault("failureCondition", TRAINING_FAILURE_CONDITION)
    node.setdefault("primaryPodLabels", dict(TRAINING_PRIMARY_POD_LABELS))
    conditions = {key: _condition_type(node, key, problems) for key in ("successCondition", "failureCondition")}
    labels = node["primaryPodLabels"]
    if not isinstance(labels, dict) or not labels:
        problems.append("spec.trialTemplate.primaryPodLabels: must map label names to values (the pod with the metrics)")
    replicas = (trial_spec.get("spec") or {}).get(replicas_field)
    path = f"spec.trialTemplate.trialSpec.spec.{replicas_field}"
    if not isinstance(replicas, dict) or not replicas:
        problems.append(f"{path}: missing (the replica types and their pod templates)")
        return None, {}
    for replica_type, replica in replicas.items():
        containers = (((replica or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        found = [c for c in containers if isinstance(c, dict) and c.get("name") == primary]
        if not found or not found[0].get("command"):
            problems.append(
                f"{path}.{replica_type}: needs a container named {primary!r} (primaryContainerName) with a command"
            )
    return primary, {"success_condition": conditions["successCondition"],
                     "failure_condition": conditions["failureCondition"],
                     "primary_pod_labels": tuple(labels.items()) if isinstance(labels, dict) else ()}


def _condition_type(node: dict, key: str, problems: list[str]) -> str | None:
    match = TRIAL_CONDITION.match(str(node[key]))
    if match is None:
        problems.append(
            f"spec.trialTemplate.{key}: {node[key]!r} is not supported; use the form "
            f'status.conditions.#(type=="<condition>")#|#(status=="True")#'
        )
        return None
    return match.group(1)


def _check_pipeline_run(trial_spec: dict, problems: list[str]) -> None:
    spec = trial_spec.get("spec")
    path = "spec.trialTemplate.trialSpec.spec"
    if not isinstance(spec, dict):
        problems.append(f"{path}: missing")
        return
    if (spec.get("pipelineName") is None) == (spec.get("pipelineSpec") is None):
        problems.append(
            f"{path}: give exactly one of pipelineName (an uploaded pipeline) "
            "or pipelineSpec (the compiled pipeline inline)"
        )
    if spec.get("pipelineSpec") is not None and not isinstance(spec["pipelineSpec"], dict):
        problems.append(f"{path}.pipelineSpec: must be the compiled pipeline (a mapping)")
    if not isinstance(spec.get("parameters", {}), dict):
        problems.append(f"{path}.parameters: must map pipeline parameter names to values")
