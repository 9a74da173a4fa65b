"""Parameter values by IR type: checking runtime parameters, typing executor inputs, reading outputs.

IR parameter types: STRING, NUMBER_INTEGER, NUMBER_DOUBLE, BOOLEAN, LIST, STRUCT (and TASK_FINAL_STATUS,
which only the engine fills). JSON carries every number as a double, so an integer may arrive as 3.0.
"""

from __future__ import annotations

import json

from mlplatform.pipelines.artifacts import import_problem
from mlplatform.pipelines.errors import InvalidInput

_PYTHON_NAMES = {
    "STRING": "a string",
    "NUMBER_INTEGER": "an integer",
    "NUMBER_DOUBLE": "a number",
    "BOOLEAN": "a boolean",
    "LIST": "a list",
    "STRUCT": "a mapping",
}


def check_runtime_parameters(input_definitions: dict, given: dict | None) -> dict:
    """The pipeline's parameter values: `given` checked against the root inputDefinitions, plus defaults.

    Raises InvalidInput naming the parameter for an unknown name, a wrong type or a missing value.
    """
    given = dict(given or {})
    definitions = input_definitions.get("parameters", {})
    unknown = sorted(set(given) - set(definitions))
    if unknown:
        raise InvalidInput(
            f"unknown pipeline parameter(s) {', '.join(unknown)}; the pipeline takes "
            f"{', '.join(sorted(definitions)) or 'no parameters'}"
        )
    values = {}
    for name, definition in definitions.items():
        kind = definition.get("parameterType", "STRING")
        if name in given and given[name] is not None:
            values[name] = _checked(name, given[name], kind)
        elif "defaultValue" in definition:
            values[name] = typed(definition["defaultValue"], kind)
        elif not definition.get("isOptional"):
            raise InvalidInput(
                f"missing required pipeline parameter {name!r} ({_PYTHON_NAMES.get(kind, kind)})"
            )
    return values


def _checked(name: str, value, kind: str):
    ok = {
        "STRING": lambda v: isinstance(v, str),
        "NUMBER_INTEGER": lambda v: (
            (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
        ),
        "NUMBER_DOUBLE": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "BOOLEAN": lambda v: isinstance(v, bool),
        "LIST": lambda v: isinstance(v, list),
        "STRUCT": lambda v: isinstance(v, dict),
    }.get(kind, lambda v: True)
    if not ok(value):
        raise InvalidInput(
            f"pipeline parameter {name!r} must be {_PYTHON_NAMES.get(kind, kind)}, "
            f"not {type(value).__name__} {value!r}"
        )
    return typed(value, kind)


def typed(value, kind: str):
    """`value` in the Python type the kfp executor expects for `kind` (3.0 -> 3 for integers)."""
    if value is None:
        return None
    if kind == "NUMBER_INTEGER" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if kind == "NUMBER_DOUBLE" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in ("LIST", "STRUCT") and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def as_text(value) -> str:
    """How a parameter appears in a command line: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_output(text: str, kind: str):
    """An output parameter file's content as a value of `kind`."""
    if kind == "STRING":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        if kind == "BOOLEAN" and text.strip().lower() in ("true", "false"):
            return text.strip().lower() == "true"
        raise ValueError(f"output {text[:80]!r} is not a valid {_PYTHON_NAMES.get(kind, kind)}") from None
    return typed(value, kind)


def split_runtime_artifacts(input_definitions: dict, given: dict | None) -> tuple[dict, dict]:
    """(parameter values, artifact inputs) of a run: the root's artifact inputs take a URI (a string or
    {"uri", "metadata"}); each comes back as {"uri", "metadata"}. Raises InvalidInput naming the input."""
    given = dict(given or {})
    artifacts = {}
    for name, definition in input_definitions.get("artifacts", {}).items():
        value = given.pop(name, None)
        if value is None:
            if not definition.get("isOptional"):
                raise InvalidInput(f"missing pipeline input artifact {name!r}: give its URI")
            continue
        artifact = value if isinstance(value, dict) else {"uri": value}
        problem = import_problem(artifact.get("uri"), f"pipeline input artifact {name!r}")
        if problem or not isinstance(artifact.get("metadata") or {}, dict):
            raise InvalidInput(problem or f"pipeline input artifact {name!r}: metadata must be a mapping")
        artifacts[name] = {"uri": artifact["uri"], "metadata": artifact.get("metadata") or {}}
    return given, artifacts
