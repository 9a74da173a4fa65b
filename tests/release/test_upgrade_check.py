"""upgrade-check and diff on real renders of the umbrella chart (helm template), no cluster needed."""

from __future__ import annotations

import copy

from mlplatform.checks.base import FAILED, PASSED, WARNING
from mlplatform.release.manifests import HIDDEN, diff_objects
from mlplatform.release.upgrade_check import upgrade_findings
from mlplatform.values.charts import UMBRELLA, Render, environment_values


def render(chart_suite, *set_values: str) -> list[dict]:
    return chart_suite.objects(Render(UMBRELLA, (environment_values("dev"),), set_values=set_values))


def failing(findings, check):
    return [f for f in findings if f.check == check and f.status == FAILED]


def test_an_unchanged_release_passes(chart_suite):
    current = render(chart_suite)
    findings = upgrade_findings(current, current, "1.31", "mlplatform")
    assert {f.status for f in findings} == {PASSED}


def test_a_changed_volume_claim_template_is_named_with_the_fix(chart_suite):
    current = render(chart_suite)
    proposed = render(chart_suite, "minio.persistence.size=500Gi")
    findings = failing(upgrade_findings(current, proposed, "1.31", "mlplatform"), "immutable-fields")
    assert [f.component for f in findings] == ["StatefulSet mlplatform/mlp-minio"]
    assert "spec.volumeClaimTemplates would change" in findings[0].detail
    assert "--cascade=orphan" in findings[0].detail


def test_a_changed_selector_is_refused(chart_suite):
    current = render(chart_suite)
    proposed = copy.deepcopy(current)
    deployment = next(o for o in proposed if o["kind"] == "Deployment")
    deployment["spec"]["selector"]["matchLabels"]["extra"] = "label"
    findings = failing(upgrade_findings(current, proposed, "1.31", "mlplatform"), "immutable-fields")
    assert len(findings) == 1 and "spec.selector would change" in findings[0].detail
    assert deployment["metadata"]["name"] in findings[0].component


def test_apis_removed_in_the_target_version_are_named(chart_suite):
    current = render(chart_suite)
    proposed = copy.deepcopy(current)
    pdb = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "old-pdb"},
           "spec": {"maxUnavailable": 1}}
    hpa = {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "old-hpa"}}
    proposed += [pdb, hpa]

    on_1_24 = upgrade_findings(current, proposed, "1.24", "mlplatform")
    assert failing(on_1_24, "removed-apis") == []  # both still served by 1.24

    on_1_26 = failing(upgrade_findings(current, proposed, "1.26", "mlplatform"), "removed-apis")
    assert {f.component for f in on_1_26} == {"PodDisruptionBudget old-pdb", "HorizontalPodAutoscaler old-hpa"}
    assert any("use policy/v1" in f.detail for f in on_1_26)
    live = upgrade_findings(proposed, current, "1.26", "mlplatform")
    assert {f.status for f in live if f.check == "removed-apis"} == {WARNING}  # already in the cluster: a warning


def test_diff_names_changed_objects_and_hides_secret_values(chart_suite):
    current = render(chart_suite, "minio.auth.rootUser=admin")
    proposed = render(chart_suite, "minio.auth.rootUser=operator")
    changes = diff_objects(current, proposed, "mlplatform")
    secrets = [c for c in changes if c.key.kind == "Secret"]
    assert secrets, [str(c.key) for c in changes]
    for change in secrets:
        assert change.change == "changed"
        assert "operator" not in change.diff and "b3BlcmF0b3I" not in change.diff  # neither plain nor base64
        assert HIDDEN in change.diff
