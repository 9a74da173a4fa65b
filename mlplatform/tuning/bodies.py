"""The tuning service's request bodies, as JSON Schema for the OpenAPI document (mlplatform.openapi).

An Experiment is Katib's kubeflow.org/v1beta1 Experiment, sent as JSON or YAML; mlplatform.tuning.spec
validates it and lists every problem.
"""

from __future__ import annotations

OBJECT = {"type": "object"}
COUNT = {"type": "integer", "minimum": 1}

EXPERIMENT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"type": "string", "enum": ["kubeflow.org/v1beta1"]},
        "kind": {"type": "string", "enum": ["Experiment"]},
        "metadata": {"type": "object", "required": ["name"],
                     "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}}},
        "spec": {
            "type": "object",
            "required": ["objective", "algorithm", "parameters", "trialTemplate"],
            "properties": {
                "objective": OBJECT, "algorithm": OBJECT, "earlyStopping": OBJECT, "metricsCollectorSpec": OBJECT,
                "parameters": {"type": "array", "items": OBJECT}, "trialTemplate": OBJECT,
                "parallelTrialCount": COUNT, "maxTrialCount": COUNT, "maxFailedTrialCount": COUNT,
                "resumePolicy": {"type": "string"},
            },
        },
    },
}

COUNT_CHANGES = {
    "type": "object",
    "description": 'the counts to change: {"spec": {"parallelTrialCount": 4}}, or the fields alone',
    "properties": {"spec": {"type": "object", "properties": {"parallelTrialCount": COUNT, "maxTrialCount": COUNT,
                                                              "maxFailedTrialCount": COUNT}}},
}

METRICS = {
    "type": "object",
    "required": ["metrics"],
    "properties": {
        "metrics": {"type": "object", "additionalProperties": {"type": "number"}, "minProperties": 1},
        "timestamp": {"type": "string", "description": "RFC 3339; now when left out"},
    },
}
