"""What kubectl reads from mlplatform.kubeapi besides the objects: discovery entries, version order, the
JSONPath of printer columns, and Status causes with their field."""

from __future__ import annotations

from mlplatform.kubeapi.discovery import resource_entries, version_priority
from mlplatform.kubeapi.errors import Invalid
from mlplatform.kubeapi.table import json_path, table
from mlplatform.tuning.resources import Experiments, Trials


def test_verbs_are_what_a_resource_implements():
    experiments, trials = (resource_entries(kind(None)) for kind in (Experiments, Trials))
    assert experiments[0]["verbs"] == ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert trials[0]["verbs"] == ["get", "list", "watch"]      # the service makes trials
    assert [e["name"] for e in trials] == ["trials", "trials/status"] and trials[1]["verbs"] == ["get"]


def test_versions_sort_as_kubernetes_orders_them():
    assert sorted(["v1alpha1", "v1beta1", "v2", "v1", "v1beta2"], key=version_priority) == \
        ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1"]


def test_printer_column_json_paths():
    item = {"status": {"conditions": [{"type": "Created"}, {"type": "Succeeded"}], "trials": 2}}
    assert json_path(item, ".status.conditions[-1:].type") == "Succeeded"
    assert json_path(item, ".status.conditions[0].type") == "Created"
    assert json_path(item, ".status.trials") == 2
    assert json_path(item, ".status.currentOptimalTrial.bestTrialName") is None
    assert json_path({"status": {}}, ".status.conditions[-1:].type") is None
    shown = table(Experiments.printer_columns, [{"metadata": {"name": "e"}, **item}], "7")
    assert [c["name"] for c in shown["columnDefinitions"]] == ["Name", "Type", "Status", "Trials", "Best", "Age"]
    assert shown["rows"][0]["cells"] == ["e", "Succeeded", None, 2, None, "<unknown>"]


def test_causes_carry_the_field_kubectl_prints():
    status = Invalid("not allowed", ["spec.algorithm: cannot be changed", "no field here"]).status("experiments", "e")
    assert status["details"]["causes"] == [{"field": "spec.algorithm", "message": "cannot be changed"},
                                           {"message": "no field here"}]
