"""The ExecutorInput message (as JSON) that the kfp executor and container components read."""

from __future__ import annotations

from mlplatform.pipelines.ir.parameters import typed

EXECUTOR_OUTPUT_FILE = "executor_output.json"


def runtime_artifact(name: str, artifact_type: dict, uri: str, metadata: dict | None = None) -> dict:
    return {"name": name, "type": artifact_type, "uri": uri, "metadata": dict(metadata or {})}


def build(
    component: dict,
    parameters: dict,
    artifacts: dict[str, list[dict]],
    output_uris: dict[str, str],
    outputs_dir: str,
) -> dict:
    """ExecutorInput for `component`.

    parameters: resolved input values (declared ones are typed by their definitions; extra
                `pipelinechannel--*` values that f-string constants refer to are passed through);
    artifacts:  input name -> runtime artifacts; output_uris: output artifact name -> URI;
    outputs_dir: where output parameter files and the executor output file go, as the task sees it.
    """
    definitions = component.get("inputDefinitions", {}).get("parameters", {})
    values = {}
    for name, definition in definitions.items():
        if name in parameters and parameters[name] is not None:
            values[name] = typed(parameters[name], definition.get("parameterType", "STRING"))
        elif "defaultValue" in definition:
            values[name] = typed(definition["defaultValue"], definition.get("parameterType", "STRING"))
    for name, value in parameters.items():
        if value is not None:
            values.setdefault(name, value)
    outputs = component.get("outputDefinitions", {})
    return {
        "inputs": {
            "parameterValues": values,
            "artifacts": {name: {"artifacts": items} for name, items in artifacts.items()},
        },
        "outputs": {
            "parameters": {
                name: {"outputFile": f"{outputs_dir}/parameters/{name}"}
                for name in outputs.get("parameters", {})
            },
            "artifacts": {
                name: {"artifacts": [runtime_artifact(name, spec.get("artifactType", {}), output_uris[name])]}
                for name, spec in outputs.get("artifacts", {}).items()
            },
            "outputFile": f"{outputs_dir}/{EXECUTOR_OUTPUT_FILE}",
        },
    }
