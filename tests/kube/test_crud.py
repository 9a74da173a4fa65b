"""The test API server through the official kubernetes client: discovery, every verb, and the errors."""

from __future__ import annotations

import pytest
import requests
from kubernetes import client

from tests.kube.helpers import deployment, status_of


def config_map(name: str, labels: dict | None = None, data: dict | None = None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {"key": "value"}}


# --- discovery --------------------------------------------------------------------------------------

def test_version_defaults_to_1_31_and_is_settable(kube_api, api):
    assert client.VersionApi(api).get_code().git_version == "v1.31.0"
    kube_api.server.set_version("v1.29.4")
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "29", "v1.29.4")
    with pytest.raises(ValueError, match="looks like v1.31.0"):
        kube_api.server.set_version("1.29")


def test_discovery_lists_the_groups_and_their_resources(api):
    groups = {group.name: group for group in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "batch", "rbac.authorization.k8s.io", "policy", "autoscaling", "networking.k8s.io",
            "storage.k8s.io", "apiextensions.k8s.io"} <= set(groups)
    assert groups["autoscaling"].preferred_version.group_version == "autoscaling/v2"
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    core = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert core["pods"].namespaced and not core["namespaces"].namespaced
    assert core["pods/log"].verbs == ["get"]
    assert "watch" in core["configmaps"].verbs
    apps = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}
    assert apps["deployments"].short_names == ["deploy"]
    assert apps["deployments/scale"].kind == "Scale" and apps["deployments/scale"].group == "autoscaling"


def test_unknown_paths_answer_404_with_a_status(kube_api):
    response = requests.get(f"{kube_api.url}/apis/example.com/v1/widgets", timeout=5)
    assert response.status_code == 404
    assert response.json()["kind"] == "Status" and response.json()["reason"] == "NotFound"


# --- create, get, list, replace, delete -----------------------------------------------------------------

def test_create_fills_the_server_fields_and_get_returns_the_object(core):
    created = core.create_namespaced_config_map("default", config_map("settings"))
    assert created.metadata.uid and created.metadata.creation_timestamp and created.metadata.resource_version
    assert created.metadata.namespace == "default"
    read = core.read_namespaced_config_map("settings", "default")
    assert read.data == {"key": "value"} and read.metadata.uid == created.metadata.uid


def test_generate_name_makes_a_unique_name(core):
    names = {core.create_namespaced_config_map("default", {"metadata": {"generateName": "run-"}}).metadata.name
             for _ in range(3)}
    assert len(names) == 3 and all(name.startswith("run-") and len(name) == 9 for name in names)


def test_a_second_create_is_409_already_exists(core):
    core.create_namespaced_config_map("default", config_map("twice"))
    with pytest.raises(client.ApiException) as caught:
        core.create_namespaced_config_map("default", config_map("twice"))
    status = status_of(caught.value)
    assert caught.value.status == 409 and status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "twice" already exists'
    assert status["details"] == {"name": "twice", "group": "", "kind": "configmaps"}


def test_a_missing_object_is_404_not_found_with_a_status_body(apps):
    with pytest.raises(client.ApiException) as caught:
        apps.read_namespaced_deployment("nowhere", "default")
    status = status_of(caught.value)
    assert caught.value.status == 404
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": 'deployments.apps "nowhere" not found', "reason": "NotFound", "code": 404,
                      "details": {"name": "nowhere", "group": "apps", "kind": "deployments"}}


def test_creating_in_a_missing_namespace_is_404(core):
    with pytest.raises(client.ApiException) as caught:
        core.create_namespaced_config_map("absent", config_map("settings"))
    assert caught.value.status == 404 and status_of(caught.value)["message"] == 'namespaces "absent" not found'


@pytest.mark.parametrize("name, field", [("Not_Valid", "metadata.name"), ("", "metadata.name")])
def test_an_invalid_object_is_422_naming_the_field(core, name, field):
    with pytest.raises(client.ApiException) as caught:
        core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    status = status_of(caught.value)
    assert caught.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == field


def test_a_deployment_whose_selector_misses_its_template_labels_is_422(apps):
    broken = deployment("broken")
    broken["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(client.ApiException) as caught:
        apps.create_namespaced_deployment("default", broken)
    assert caught.value.status == 422
    assert "`selector` does not match template `labels`" in status_of(caught.value)["message"]


def test_replace_with_a_stale_resource_version_is_409_conflict(core):
    created = core.create_namespaced_config_map("default", config_map("settings"))
    created.data = {"key": "first"}
    core.replace_namespaced_config_map("settings", "default", created)
    created.data = {"key": "second"}
    with pytest.raises(client.ApiException) as caught:
        core.replace_namespaced_config_map("settings", "default", created)   # still the old resourceVersion
    assert caught.value.status == 409 and status_of(caught.value)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("settings", "default").data == {"key": "first"}


def test_replace_bumps_the_resource_version_and_a_no_op_does_not(core):
    created = core.create_namespaced_config_map("default", config_map("settings"))
    same = core.replace_namespaced_config_map("settings", "default", created)
    assert same.metadata.resource_version == created.metadata.resource_version
    created.data = {"key": "changed"}
    changed = core.replace_namespaced_config_map("settings", "default", created)
    assert int(changed.metadata.resource_version) > int(created.metadata.resource_version)


def test_generation_counts_spec_changes_only(apps):
    created = apps.create_namespaced_deployment("default", deployment("web"))
    assert created.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment("web", "default", {"metadata": {"labels": {"extra": "yes"}}})
    assert labelled.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 5}})
    assert scaled.metadata.generation == 2


def test_list_filters_by_label_selectors(core):
    for name, labels in [("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db", "env": "prod"}),
                         ("c", {"tier": "web"})]:
        core.create_namespaced_config_map("default", config_map(name, labels))

    def names(selector: str) -> list[str]:
        return [item.metadata.name for item in core.list_namespaced_config_map("default", label_selector=selector).items]

    assert names("tier=web") == ["a", "c"]
    assert names("tier==web,env=prod") == ["a"]
    assert names("tier!=web") == ["b"]
    assert names("tier in (web, db),env") == ["a", "b"]
    assert names("tier notin (web)") == ["b"]
    assert names("!env") == ["c"]


def test_list_filters_by_field_selectors_and_across_namespaces(core):
    core.create_namespace({"metadata": {"name": "other"}})
    core.create_namespaced_config_map("default", config_map("a"))
    core.create_namespaced_config_map("other", config_map("a"))
    core.create_namespaced_config_map("other", config_map("b"))
    everywhere = core.list_config_map_for_all_namespaces(field_selector="metadata.name=a").items
    assert sorted(item.metadata.namespace for item in everywhere) == ["default", "other"]
    in_other = core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=other,metadata.name!=a")
    assert [item.metadata.name for item in in_other.items] == ["b"]


def test_list_pages_with_limit_and_continue(core):
    for index in range(5):
        core.create_namespaced_config_map("default", config_map(f"page-{index}"))
    first = core.list_namespaced_config_map("default", limit=2)
    assert [i.metadata.name for i in first.items] == ["page-0", "page-1"]
    assert first.metadata.remaining_item_count == 3
    rest = core.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    assert [i.metadata.name for i in rest.items] == ["page-2", "page-3", "page-4"] and not rest.metadata._continue


def test_dry_run_validates_without_storing(core):
    preview = core.create_namespaced_config_map("default", config_map("preview"), dry_run="All")
    assert preview.metadata.name == "preview"
    with pytest.raises(client.ApiException) as caught:
        core.read_namespaced_config_map("preview", "default")
    assert caught.value.status == 404


def test_delete_returns_a_success_status_and_a_second_delete_is_404(core):
    core.create_namespaced_config_map("default", config_map("gone"))
    status = core.delete_namespaced_config_map("gone", "default")
    assert status.status == "Success" and status.details.name == "gone"
    with pytest.raises(client.ApiException) as caught:
        core.delete_namespaced_config_map("gone", "default")
    assert caught.value.status == 404


def test_delete_collection_removes_the_selected_objects(core):
    for name, labels in [("a", {"drop": "yes"}), ("b", {"drop": "yes"}), ("c", {})]:
        core.create_namespaced_config_map("default", config_map(name, labels))
    core.delete_collection_namespaced_config_map("default", label_selector="drop=yes")
    assert [i.metadata.name for i in core.list_namespaced_config_map("default").items] == ["c"]


def test_deleting_a_namespace_removes_its_objects(core, apps):
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", config_map("settings"))
    apps.create_namespaced_deployment("doomed", deployment("web"))
    core.create_namespaced_config_map("default", config_map("kept"))
    core.delete_namespace("doomed")
    assert core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=doomed").items == []
    assert apps.list_deployment_for_all_namespaces().items == []
    assert core.read_namespaced_config_map("kept", "default").metadata.name == "kept"


def test_deleting_an_owner_deletes_its_dependents_unless_orphaned(core):
    owner = core.create_namespaced_config_map("default", config_map("owner"))
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    for name in ("dependent-1", "dependent-2"):
        core.create_namespaced_config_map("default", {**config_map(name), "metadata": {
            "name": name, "ownerReferences": [reference]}})
    core.delete_namespaced_config_map("owner", "default", propagation_policy="Background")
    assert core.list_namespaced_config_map("default").items == []

    owner = core.create_namespaced_config_map("default", config_map("owner"))
    core.create_namespaced_config_map("default", {**config_map("kept"), "metadata": {
        "name": "kept", "ownerReferences": [{**reference, "uid": owner.metadata.uid}]}})
    core.delete_namespaced_config_map("owner", "default", propagation_policy="Orphan")
    assert [i.metadata.name for i in core.list_namespaced_config_map("default").items] == ["kept"]


def test_finalizers_hold_a_deletion_until_they_are_removed(core):
    core.create_namespaced_config_map("default", {**config_map("held"), "metadata": {
        "name": "held", "finalizers": ["example.com/cleanup"]}})
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"$deleteFromPrimitiveList/finalizers":
                                                                      ["example.com/cleanup"]}})
    with pytest.raises(client.ApiException) as caught:
        core.read_namespaced_config_map("held", "default")
    assert caught.value.status == 404


# --- defaults the server fills ----------------------------------------------------------------------------

def test_services_get_a_cluster_ip_that_survives_updates(core):
    created = core.create_namespaced_service("default", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert created.spec.cluster_ip.startswith("10.96.") and created.spec.type == "ClusterIP"
    assert created.spec.ports[0].target_port == 80
    replaced = core.replace_namespaced_service("web", "default", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 81}]}})
    assert replaced.spec.cluster_ip == created.spec.cluster_ip


def test_secret_string_data_is_stored_as_data(core):
    created = core.create_namespaced_secret("default", {"metadata": {"name": "creds"},
                                                        "stringData": {"password": "s3cret"}})
    assert created.data == {"password": "czNjcmV0"} and created.string_data is None and created.type == "Opaque"


def test_immutable_fields_refuse_changes(apps):
    apps.create_namespaced_deployment("default", deployment("web"))
    changed = deployment("web", labels={"app": "web", "track": "stable"})
    with pytest.raises(client.ApiException) as caught:
        apps.replace_namespaced_deployment("web", "default", changed)
    assert caught.value.status == 422 and "spec.selector" in status_of(caught.value)["message"]
    assert "field is immutable" in status_of(caught.value)["message"]


# --- subresources ----------------------------------------------------------------------------------------

def test_the_status_subresource_is_separate_from_the_object(apps):
    apps.create_namespaced_deployment("default", deployment("web"))
    updated = apps.replace_namespaced_deployment_status("web", "default", {
        "metadata": {"name": "web"}, "status": {"readyReplicas": 2, "replicas": 2}})
    assert updated.status.ready_replicas == 2
    # A write to the object keeps the status; a status write keeps the spec.
    body = apps.read_namespaced_deployment("web", "default")
    body.spec.replicas, body.status.ready_replicas = 4, 0
    replaced = apps.replace_namespaced_deployment("web", "default", body)
    assert (replaced.spec.replicas, replaced.status.ready_replicas) == (4, 2)
    patched = apps.patch_namespaced_deployment_status("web", "default", {"spec": {"replicas": 9},
                                                                         "status": {"readyReplicas": 4}})
    assert (patched.spec.replicas, patched.status.ready_replicas) == (4, 4)
    assert apps.read_namespaced_deployment_status("web", "default").status.ready_replicas == 4


def test_the_scale_subresource_reads_and_sets_replicas(apps):
    apps.create_namespaced_deployment("default", deployment("web"))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.spec.replicas, scale.status.selector) == (2, "app=web")
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 6}})
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 6


def test_pod_logs_come_from_the_server_helper(kube_api, core):
    core.create_namespaced_pod("default", {"metadata": {"name": "worker"}, "spec": {"containers": [
        {"name": "main", "image": "example/app:1"}, {"name": "sidecar", "image": "example/side:1"}]}})
    kube_api.server.set_pod_log("default", "worker", "one\ntwo\nthree\n", container="main")
    assert core.read_namespaced_pod_log("worker", "default", container="main") == "one\ntwo\nthree\n"
    assert core.read_namespaced_pod_log("worker", "default", container="main", tail_lines=1) == "three\n"
    with pytest.raises(client.ApiException) as caught:
        core.read_namespaced_pod_log("worker", "default")
    assert caught.value.status == 400
    assert "a container name must be specified for pod worker" in status_of(caught.value)["message"]
