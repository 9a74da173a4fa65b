"""`inference`: one Open Inference Protocol (v2) request against each served model, on each track.

The request is built from the model's metadata (`GET /v2/models/<name>`): one row of zeros per declared
input. A model whose metadata declares no inputs is checked for readiness only, and the result says so.
"""

from __future__ import annotations

import requests

from mlplatform.checks.base import Check, CheckContext, CheckResult
from mlplatform.checks.health import describe_failure

_ZERO = {"BOOL": False, "BYTES": ""}


def served_models(values: dict) -> list[tuple[str, str]]:
    """(component, model name) for every model each track serves."""
    model_server = values.get("modelServer") or {}
    targets = [("model-server-stable", model["name"]) for model in model_server.get("models") or []]
    canary = model_server.get("canary") or {}
    if canary.get("enabled"):
        targets += [("model-server-canary", model["name"]) for model in canary.get("models") or []]
    return targets


def sample_request(metadata: dict) -> dict | None:
    """A v2 inference request of zeros shaped as the metadata declares; None without declared inputs."""
    inputs = []
    for declared in metadata.get("inputs") or []:
        shape = [1 if dimension in (-1, None) else int(dimension) for dimension in declared.get("shape") or [1]]
        count = 1
        for dimension in shape:
            count *= dimension
        datatype = declared.get("datatype", "FP32")
        inputs.append({"name": declared["name"], "shape": shape, "datatype": datatype,
                       "data": [_ZERO.get(datatype, 0)] * count})
    return {"inputs": inputs} if inputs else None


class InferenceCheck(Check):
    name = "inference"
    description = "an inference against each served model"

    def skip_reason(self, context: CheckContext) -> str | None:
        if not served_models(context.values):
            return "the values serve no model (modelServer.models)"
        return None

    def run(self, context: CheckContext) -> list[CheckResult]:
        return [self._infer(context, component, model) for component, model in served_models(context.values)]

    def _infer(self, context: CheckContext, component: str, model: str) -> CheckResult:
        if not context.endpoints.has(component):
            return self.failed(component, f"model {model}: {component} has no endpoint")
        base = f"{context.endpoints.url(component)}/v2/models/{model}"
        try:
            metadata = requests.get(base, timeout=context.timeout)
            if metadata.status_code != 200:
                return self.failed(component, f"model {model}: GET {base}: HTTP {metadata.status_code} "
                                              f"{metadata.text[:200].strip()}")
            request = sample_request(metadata.json())
            if request is None:
                ready = requests.get(f"{base}/ready", timeout=context.timeout)
                if ready.status_code != 200:
                    return self.failed(component, f"model {model}: not ready (HTTP {ready.status_code})")
                return self.warning(component, f"model {model}: ready; its metadata declares no inputs, "
                                               "so no inference was tried")
            response = requests.post(f"{base}/infer", json=request, timeout=context.timeout)
        except requests.RequestException as error:
            return self.failed(component, f"model {model}: {base}: {describe_failure(error)}")
        if response.status_code != 200:
            return self.failed(component, f"model {model}: POST {base}/infer: HTTP {response.status_code} "
                                          f"{response.text[:200].strip()}")
        outputs = response.json().get("outputs") or []
        if not outputs:
            return self.failed(component, f"model {model}: the inference answered no outputs")
        version = response.json().get("model_version")
        return self.passed(component, f"model {model}" + (f" v{version}" if version else "") +
                           f": {len(outputs)} output(s) in {response.elapsed.total_seconds() * 1000:.0f} ms")
