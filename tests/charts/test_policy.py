"""The policy suite: what DESIGN section 3 promises of every chart, checked on every render of the matrix.

Security defaults, resources, probes, no host access, namespaced RBAC without wildcards, tokens only
where a pod calls the API, writable paths on emptyDirs, credentials from Secrets, images that honour
global.imageRegistry and imagePullSecrets, and in prod NetworkPolicies and PodDisruptionBudgets.
"""

import base64

import pytest

from mlplatform.values import charts
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS, RENDER_CASES, environment_case

WORKLOADS = ("Deployment", "StatefulSet", "Job")
LONG_RUNNING = ("Deployment", "StatefulSet")
# The pods that call the Kubernetes API: the runners create Jobs, Prometheus discovers pods, and the
# preflight and validate hooks read the cluster. Every other pod runs without a token.
# The training operator is the controller of PyTorchJobs and TFJobs; the dashboard calls only the public APIs.
CALLS_API = {"pipeline-controller", "tuning-service", "training-operator", "prometheus", "hook:preflight", "hook:validate"}
# The one cluster-scoped grant (contracts §5): preflight reads StorageClasses.
PREFLIGHT_CLUSTER_RULES = [{"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list"]}]
# The other (a service's auth.mode kubernetes): TokenReview and SubjectAccessReview are cluster-scoped
# creates that name no object, so only a ClusterRole can grant them; it grants those two creates alone.
AUTH_REVIEW_CLUSTER_RULES = [
    {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
    {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
]
CREDENTIAL_WORDS = ("PASSWORD", "SECRET", "ACCESS_KEY", "TOKEN")
CREDENTIAL_LOCATIONS = ("_PATH", "_FILE")   # where a mounted credential is (KF_PIPELINES_SA_TOKEN_PATH), not one

matrix = pytest.mark.parametrize("case", RENDER_CASES, ids=lambda case: case.id)
helms = pytest.mark.parametrize("helm", HELM_PARAMS)


def workloads(objects):
    return [obj for obj in objects if obj["kind"] in WORKLOADS]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict, init: bool = True) -> list[dict]:
    spec = pod_spec(workload)
    return spec["containers"] + (spec.get("initContainers", []) if init else [])


def who(workload: dict) -> str:
    """The component a pod belongs to; hook pods as hook:<name>."""
    labels = workload["spec"]["template"]["metadata"]["labels"]
    hook = labels.get("mlplatform.io/hook")
    return f"hook:{hook}" if hook else labels["app.kubernetes.io/name"]


def where(workload: dict, container: dict | None = None) -> str:
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    return f"{name} container {container['name']}" if container else name


@matrix
@helms
def test_pods_run_as_non_root_with_the_runtime_seccomp_profile(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        context = pod_spec(workload)["securityContext"]
        assert context["runAsNonRoot"] is True, where(workload)
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where(workload)
        assert context.get("runAsUser", 1) != 0, where(workload)


@matrix
@helms
def test_containers_drop_every_privilege_and_write_nothing_to_their_root(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where(workload, container)
            assert context["readOnlyRootFilesystem"] is True, where(workload, container)
            assert context["capabilities"] == {"drop": ["ALL"]}, where(workload, container)
            assert not context.get("privileged"), where(workload, container)


@matrix
@helms
def test_writable_paths_are_empty_dirs(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        volumes = {volume["name"]: volume for volume in pod_spec(workload).get("volumes", [])}
        for container in containers(workload):
            mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])}
            home = next(var["value"] for var in container["env"] if var["name"] == "HOME")
            for path in ("/tmp", home):
                assert path in mounts, f"{where(workload, container)} has no volume at {path}"
                assert "emptyDir" in volumes[mounts[path]], f"{where(workload, container)}: {path} is not an emptyDir"


@matrix
@helms
def test_every_container_requests_cpu_and_memory_and_limits_memory(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        for container in containers(workload):
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where(workload, container)
            assert "memory" in resources.get("limits", {}), where(workload, container)


@matrix
@helms
def test_long_running_containers_have_liveness_and_readiness_probes(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        if workload["kind"] in LONG_RUNNING:
            for container in containers(workload, init=False):
                assert "livenessProbe" in container and "readinessProbe" in container, where(workload, container)


@matrix
@helms
def test_no_host_namespaces_host_paths_or_host_ports(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        spec = pod_spec(workload)
        assert not any(spec.get(field) for field in ("hostNetwork", "hostPID", "hostIPC")), where(workload)
        assert not [volume for volume in spec.get("volumes", []) if "hostPath" in volume], where(workload)
        for container in containers(workload):
            assert not [port for port in container.get("ports", []) if "hostPort" in port], where(workload, container)


@matrix
@helms
def test_rbac_is_namespaced_least_privilege_without_wildcards(chart_suite, case, helm):
    objects = chart_suite.objects(case.render, helm)
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in ("Role", "ClusterRole"):
            for rule in obj["rules"]:
                for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                    assert "*" not in rule.get(field, []), f"{name} grants {field} '*'"
                assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), name
        if obj["kind"] == "ClusterRole" and obj["metadata"]["labels"].get("mlplatform.io/purpose") == "auth-reviews":
            assert obj["rules"] == AUTH_REVIEW_CLUSTER_RULES, name
        elif obj["kind"] == "ClusterRole":
            assert obj["metadata"]["labels"].get("mlplatform.io/hook") == "preflight", f"{name}: only preflight may hold a ClusterRole"
            assert obj["rules"] == PREFLIGHT_CLUSTER_RULES, name
        if obj["kind"] == "RoleBinding":
            assert obj["roleRef"]["kind"] == "Role", f"{name} binds a ClusterRole in a namespace"
        if obj["kind"] == "ClusterRoleBinding":
            assert obj["roleRef"]["name"].endswith(("-preflight", "-auth-reviews")), name


@matrix
@helms
def test_only_pods_that_call_the_api_get_a_token(chart_suite, case, helm):
    objects = chart_suite.objects(case.render, helm)
    for account in (obj for obj in objects if obj["kind"] == "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False, account["metadata"]["name"]
    for workload in workloads(objects):
        assert pod_spec(workload)["automountServiceAccountToken"] is (who(workload) in CALLS_API), where(workload)


@matrix
@helms
def test_credentials_come_from_secrets(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        for container in containers(workload):
            for var in container.get("env", []):
                if any(word in var["name"] for word in CREDENTIAL_WORDS) and not var["name"].endswith(CREDENTIAL_LOCATIONS):
                    assert "secretKeyRef" in var.get("valueFrom", {}), f"{where(workload, container)}: {var['name']}"


@matrix
@helms
def test_services_select_the_pods_of_a_workload(chart_suite, case, helm):
    objects = chart_suite.objects(case.render, helm)
    pod_labels = [workload["spec"]["template"]["metadata"]["labels"] for workload in workloads(objects)]
    for service in (obj for obj in objects if obj["kind"] == "Service"):
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), \
            f"Service/{service['metadata']['name']} selects no pods: {selector}"


@matrix
@helms
def test_scraped_pods_name_a_port_they_serve(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") == "true":
            ports = {port["containerPort"] for container in containers(workload, init=False) for port in container["ports"]}
            assert int(annotations["prometheus.io/port"]) in ports, where(workload)
            assert annotations["prometheus.io/path"].startswith("/"), where(workload)


@matrix
@helms
def test_images_are_pinned(chart_suite, case, helm):
    for workload in workloads(chart_suite.objects(case.render, helm)):
        for container in containers(workload):
            repository, _, tag = container["image"].rpartition(":")
            assert repository and tag and tag != "latest" and "/" not in tag, where(workload, container)


AIR_GAPPED = ("global.imageRegistry=registry.internal:5000", "global.imagePullSecrets[0]=regcred",
              "global.imagePullSecrets[1].name=mirror-pull")


@pytest.mark.parametrize("chart", [*charts.subcharts(), charts.UMBRELLA])
@helms
def test_images_honour_global_registry_and_pull_secrets(chart_suite, chart, helm):
    ci_values = tuple(charts.ci_values(chart)[-1:])
    render = Render(chart, ci_values, set_values=(*AIR_GAPPED, "imagePullSecrets[0]=local") if chart != charts.UMBRELLA
                    else AIR_GAPPED)
    found = workloads(chart_suite.objects(render, helm))
    assert found
    for workload in found:
        secrets = [secret["name"] for secret in pod_spec(workload).get("imagePullSecrets", [])]
        expected = ["regcred", "mirror-pull"] + (["local"] if chart != charts.UMBRELLA else [])
        assert secrets == expected, where(workload)
        for container in containers(workload):
            assert container["image"].startswith("registry.internal:5000/"), where(workload, container)


def selects(selector: dict, labels: dict) -> bool:
    return selector["matchLabels"].items() <= labels.items()


@helms
def test_prod_isolates_every_workload_with_a_network_policy(chart_suite, helm):
    objects = chart_suite.objects(environment_case("prod").render, helm)
    policies = [obj["spec"]["podSelector"] for obj in objects if obj["kind"] == "NetworkPolicy"]
    for workload in workloads(objects):
        if workload["kind"] in LONG_RUNNING:
            labels = workload["spec"]["template"]["metadata"]["labels"]
            assert any(selects(policy, labels) for policy in policies), f"{where(workload)} has no NetworkPolicy"


@helms
def test_prod_protects_every_replicated_workload_with_a_disruption_budget(chart_suite, helm):
    objects = chart_suite.objects(environment_case("prod").render, helm)
    budgets = [obj["spec"]["selector"] for obj in objects if obj["kind"] == "PodDisruptionBudget"]
    autoscaled = {obj["spec"]["scaleTargetRef"]["name"] for obj in objects if obj["kind"] == "HorizontalPodAutoscaler"}
    replicated = [workload for workload in workloads(objects) if workload["kind"] in LONG_RUNNING
                  and (workload["spec"].get("replicas", 1) > 1 or workload["metadata"]["name"] in autoscaled)]
    assert len(replicated) >= 4, "prod must run the registry, model server, MinIO and Prometheus replicated"
    for workload in replicated:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(selects(budget, labels) for budget in budgets), f"{where(workload)} has no PodDisruptionBudget"


@helms
def test_prod_keeps_state_in_postgresql_through_existing_secrets(chart_suite, helm):
    objects = chart_suite.objects(environment_case("prod").render, helm)
    assert not [obj for obj in objects if obj["kind"] == "PersistentVolumeClaim"]
    stateful_services = {"pipeline-controller", "tuning-service", "model-registry", "training-operator"}
    for workload in workloads(objects):
        if who(workload) in stateful_services:
            database = next(var for var in containers(workload)[0]["env"] if var["name"] == "MLP_DB_URL")
            assert database["valueFrom"]["secretKeyRef"]["key"] == "uri", where(workload)


def test_minio_never_ships_a_default_password(chart_suite):
    def password(release: str) -> bytes:
        secret = next(obj for obj in chart_suite.objects(Render("minio", release=release)) if obj["kind"] == "Secret")
        return base64.b64decode(secret["data"]["root-password"])

    first, second = password("one"), password("two")
    assert first != second and len(first) >= 32


def test_an_existing_secret_replaces_the_generated_one(chart_suite):
    objects = chart_suite.objects(Render("minio", set_values=("auth.existingSecret=my-root",)))
    assert not [obj for obj in objects if obj["kind"] == "Secret"]
    statefulset = next(obj for obj in objects if obj["kind"] == "StatefulSet")
    refs = {var["valueFrom"]["secretKeyRef"]["name"] for var in containers(statefulset)[0]["env"] if "valueFrom" in var}
    assert refs == {"my-root"}
