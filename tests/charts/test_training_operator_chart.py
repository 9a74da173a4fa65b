"""charts/training-operator (issue 16): `mlp serve training` with the controller flags of the tuning service,
a least-privilege Role per watched namespace, and the PyTorchJob and TFJob CRDs in crds/: valid for every
supported Kubernetes, structural, knowing every field of the Kubeflow training SDK, and refusing what the
Training Operator refuses. Through the umbrella, the tuning service may create PyTorchJob and TFJob trials."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS, KUBERNETES_VERSIONS, environment_case, validation_errors

CHART = "training-operator"
ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "charts" / CHART / "crds"
SAMPLES = Path(__file__).parent / "crd_schemas" / "samples"
KINDS = {"PyTorchJob": "pytorchjobs", "TFJob": "tfjobs"}

# Everything the operator may do in a watched namespace (templates/_controller.tpl), and nothing else.
CONTROLLER_RULES = [
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs", "tfjobs"], "verbs": ["get", "list", "watch", "delete"]},
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs/status", "tfjobs/status"], "verbs": ["get", "update", "patch"]},
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs/finalizers", "tfjobs/finalizers"], "verbs": ["update"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "create", "delete"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "create", "delete"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]
TRAINING_TRIAL_RULES = [
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs", "tfjobs"], "verbs": ["get", "list", "watch", "create", "delete"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]

helms = pytest.mark.parametrize("helm", HELM_PARAMS)


def operator(objects: list[dict]) -> dict:
    return next(obj for obj in objects if obj["kind"] == "Deployment" and obj["metadata"]["name"].endswith("-training-operator"))


def command(objects: list[dict]) -> list[str]:
    return operator(objects)["spec"]["template"]["spec"]["containers"][0]["command"]


def flag(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def grants(objects: list[dict], suffix: str) -> dict[str, list[dict]]:
    """namespace ('' for a ClusterRole) -> rules of the Roles named *<suffix>."""
    return {obj["metadata"].get("namespace", ""): obj["rules"] for obj in objects
            if obj["kind"] in ("Role", "ClusterRole") and obj["metadata"]["name"].endswith(suffix)}


# ---- the Deployment

@helms
def test_the_operator_runs_mlp_serve_training_on_8686_as_a_singleton_controller(chart_suite, helm):
    objects = chart_suite.objects(Render(CHART), helm)
    argv = command(objects)
    assert argv == ["mlp", "serve", "training", "--host", "0.0.0.0", "--port", "8686", "--db", "$(MLP_DB_URL)",
                    "--runner", "kubernetes", "--watch-namespaces", "mlplatform"]
    deployment = operator(objects)
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True   # it watches the jobs through the API
    container = pod["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 8686, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # The replicas come from the jobs' templates: no task settings, no S3 credentials.
    assert "envFrom" not in container
    names = {var["name"] for var in container["env"]}
    assert {"MLP_DB_URL", "POD_NAMESPACE", "HOME"} <= names and not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & names
    assert next(var for var in container["env"] if var["name"] == "MLP_DB_URL")["value"] == "sqlite:////data/training.db"
    service = next(obj for obj in objects if obj["kind"] == "Service")
    assert service["spec"]["ports"] == [{"name": "http", "port": 8686, "targetPort": "http", "protocol": "TCP"}]


@pytest.mark.parametrize(
    "values, watched, roles",
    [
        ((), "mlplatform", {"mlplatform"}),
        (("controller.namespaces={mlplatform,team-a}",), "mlplatform,team-a", {"mlplatform", "team-a"}),
        (("controller.allNamespaces=true",), "*", {""}),
    ],
    ids=["release-namespace", "listed", "all"],
)
def test_the_operator_watches_and_may_act_in_exactly_its_namespaces(chart_suite, values, watched, roles):
    objects = chart_suite.objects(Render(CHART, set_values=values))
    assert flag(command(objects), "--watch-namespaces") == watched
    found = grants(objects, "-training-operator-controller")
    assert set(found) == roles
    assert all(rules == CONTROLLER_RULES for rules in found.values())
    bindings = [obj for obj in objects if obj["kind"] in ("RoleBinding", "ClusterRoleBinding")
                and obj["metadata"]["name"].endswith("-controller")]
    assert len(bindings) == len(roles)
    assert all(binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlp-training-operator", "namespace": "mlplatform"}]
               for binding in bindings)


def test_the_all_namespaces_render_validates_strictly(chart_suite):
    """Not in the ci/ matrix: the policy suite allows no ClusterRole there, and this one is opt-in."""
    objects = chart_suite.objects(Render(CHART, set_values=("controller.allNamespaces=true",)))
    for version in (KUBERNETES_VERSIONS[0], KUBERNETES_VERSIONS[-1]):
        assert [error for obj in objects for error in validation_errors(obj, version)] == []


def test_the_controller_grant_is_least_privilege():
    """The operator never creates or edits jobs (users do; it writes their status), never creates pods (the
    replicas' Jobs do) nor reads their logs, and touches no Secrets, ConfigMaps or RBAC."""
    granted = {(group, resource, verb) for rule in CONTROLLER_RULES for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    assert not {("kubeflow.org", plural, verb) for plural in ("pytorchjobs", "tfjobs")
                for verb in ("create", "update", "patch")} & granted
    assert not {entry for entry in granted if entry[1] == "pods/log" or (entry[1] == "pods" and entry[2] not in ("get", "list", "watch"))}
    assert not {entry for entry in granted if entry[1] in ("secrets", "configmaps", "roles", "rolebindings", "serviceaccounts")}
    assert {verb for group, resource, verb in granted if resource == "events"} == {"create", "patch"}


def test_auth_mode_kubernetes_passes_the_flag_and_grants_only_the_reviews(chart_suite):
    from tests.charts.test_policy import AUTH_REVIEW_CLUSTER_RULES

    objects = chart_suite.objects(Render(CHART, set_values=("auth.mode=kubernetes",)))
    assert flag(command(objects), "--auth-mode") == "kubernetes"
    assert grants(objects, "-training-operator-auth-reviews") == {"": AUTH_REVIEW_CLUSTER_RULES}
    assert "--auth-mode" not in command(chart_suite.objects(Render(CHART)))


def test_postgresql_replaces_the_volume(chart_suite):
    objects = chart_suite.objects(Render(CHART, set_values=("database.existingSecret=training-db", "persistence.enabled=false")))
    assert not [obj for obj in objects if obj["kind"] == "PersistentVolumeClaim"]
    container = operator(objects)["spec"]["template"]["spec"]["containers"][0]
    database = next(var for var in container["env"] if var["name"] == "MLP_DB_URL")
    assert database["valueFrom"]["secretKeyRef"] == {"name": "training-db", "key": "uri"}
    assert "data" not in {mount["name"] for mount in container["volumeMounts"]}


@pytest.mark.parametrize("values, key", [
    (("controller.namespaces={Team_A}",), "controller.namespaces"),
    (("auth.mode=token",), "auth"),
    (("replicaCount=2",), "replicaCount"),
])
def test_the_schema_refuses(chart_suite, values, key):
    assert key in chart_suite.refusal(Render(CHART, set_values=values))


# ---- through the umbrella

@helms
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_environment_runs_the_operator_as_documented(chart_suite, helm, environment):
    objects = chart_suite.objects(environment_case(environment).render, helm)
    argv = command(objects)
    assert flag(argv, "--watch-namespaces") == "mlplatform"
    assert (flag(argv, "--auth-mode") == "kubernetes") is (environment != "dev")
    policies = [obj for obj in objects if obj["kind"] == "NetworkPolicy" and obj["metadata"]["name"] == "mlp-training-operator"]
    assert len(policies) == (0 if environment == "dev" else 1)
    if environment == "prod":
        database = next(var for var in operator(objects)["spec"]["template"]["spec"]["containers"][0]["env"]
                        if var["name"] == "MLP_DB_URL")
        assert database["valueFrom"]["secretKeyRef"]["name"] == "mlplatform-training-db"
        preflight = next(obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"].endswith("-preflight"))
        assert "mlplatform-training-db" in preflight["rules"][0]["resourceNames"]


def test_the_umbrella_lets_the_tuning_service_create_training_trials(chart_suite):
    umbrella = grants(chart_suite.objects(Render("mlplatform")), "-tuning-service-controller")
    assert all(rules[2:] == TRAINING_TRIAL_RULES for rules in umbrella.values()) and umbrella
    alone = grants(chart_suite.objects(Render("tuning-service")), "-tuning-service-controller")
    assert alone and not [rule for rules in alone.values() for rule in rules if "pytorchjobs" in rule["resources"]]
    off = grants(chart_suite.objects(Render("mlplatform", set_values=("trainingOperator.enabled=false",
                                                                     "tuningService.controller.trainingJobs=false"))),
                 "-tuning-service-controller")
    assert not [rule for rules in off.values() for rule in rules if "pytorchjobs" in rule["resources"]]


def test_profiles_users_and_the_operator_reach_the_profile_namespaces(chart_suite):
    values = ("profiles[0].name=team-a", "profiles[0].users[0]=alice@example.com",
              "trainingOperator.controller.namespaces={mlplatform,team-a}")
    objects = chart_suite.objects(Render("mlplatform", set_values=values))
    assert flag(command(objects), "--watch-namespaces") == "mlplatform,team-a"
    assert set(grants(objects, "-training-operator-controller")) == {"mlplatform", "team-a"}
    user = next(obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"] == "mlp-team-a-user")
    assert {"pytorchjobs", "tfjobs"} <= {resource for rule in user["rules"] for resource in rule["resources"]}
    refusal = chart_suite.refusal(Render("mlplatform", set_values=values[:2]))
    assert "trainingOperator.controller.namespaces" in refusal and '"team-a"' in refusal


# ---- the CRDs

def crds() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(CRDS.glob("*.yaml"))}


def crd_for(kind: str) -> dict:
    return crds()[f"{KINDS[kind]}.kubeflow.org.yaml"]


def open_api_schema(kind: str) -> dict:
    [version] = crd_for(kind)["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def strict(schema: dict) -> dict:
    """The CRD schema as the API server applies it with strict field validation: unknown fields are errors."""
    schema = copy.deepcopy(schema)

    def tighten(node: dict) -> None:
        if node.get("x-kubernetes-preserve-unknown-fields"):
            return
        if "properties" in node:
            node.setdefault("additionalProperties", False)
            for child in node["properties"].values():
                tighten(child)
        if isinstance(node.get("additionalProperties"), dict):
            tighten(node["additionalProperties"])
        if isinstance(node.get("items"), dict):
            tighten(node["items"])

    tighten(schema)
    return schema


def crd_errors(obj: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(strict(open_api_schema(obj["kind"])))
    return [f"{'.'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in validator.iter_errors(obj)]


def samples() -> dict[str, dict]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(SAMPLES.glob("*.yaml"))}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_crds_validate_strictly(version):
    assert set(crds()) == {"pytorchjobs.kubeflow.org.yaml", "tfjobs.kubeflow.org.yaml"}
    for name, crd in crds().items():
        assert validation_errors(crd, version) == [], name


def _structural_problems(schema: dict, path: str) -> list[str]:
    """Kubernetes' structural rule: every node has a type (or is int-or-string), or keeps unknown fields."""
    problems = []
    if "type" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields") \
            and not schema.get("x-kubernetes-int-or-string"):
        problems.append(f"{path}: no type")
    if "properties" in schema and "additionalProperties" in schema:
        problems.append(f"{path}: properties and additionalProperties")
    for key, child in (schema.get("properties") or {}).items():
        problems += _structural_problems(child, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            problems += _structural_problems(schema[key], f"{path}.{key}")
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_crds_are_structural_with_status_printer_columns_and_the_training_operator_names(kind):
    crd = crd_for(kind)
    assert crd["metadata"]["name"] == f"{KINDS[kind]}.kubeflow.org"
    assert crd["spec"]["group"] == "kubeflow.org" and crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["kind"] == kind and crd["spec"]["names"]["plural"] == KINDS[kind]
    [version] = crd["spec"]["versions"]
    assert version["name"] == "v1" and version["served"] and version["storage"]
    assert version["subresources"]["status"] == {}
    assert [(column["name"], column["jsonPath"]) for column in version["additionalPrinterColumns"]] == [
        ("State", ".status.conditions[-1:].type"), ("Age", ".metadata.creationTimestamp")]
    assert _structural_problems(version["schema"]["openAPIV3Schema"], kind) == []


def test_the_pytorchjob_scales_its_workers_for_elastic_training():
    [version] = crd_for("PyTorchJob")["spec"]["versions"]
    assert version["subresources"]["scale"] == {
        "specReplicasPath": ".spec.pytorchReplicaSpecs.Worker.replicas",
        "statusReplicasPath": ".status.replicaStatuses.Worker.active",
        "labelSelectorPath": ".status.replicaStatuses.Worker.selector",
    }


@pytest.mark.parametrize("name", ["pytorchjob-mnist", "pytorchjob-elastic", "tfjob-ps-worker"])
def test_the_samples_are_valid_jobs(name):
    sample = samples()[name]
    assert crd_errors(sample) == []


# Each mistake is what the Training Operator (its CRD or its validation) refuses.
MISTAKES = [
    ("pytorchjob-mnist", ["spec", "pytorchReplicaSpecs", "worker"], {"replicas": 1}, "pytorchReplicaSpecs"),
    ("pytorchjob-mnist", ["spec", "pytorchReplicaSpecs", "Master", "replicas"], 2, "Master.replicas"),
    ("pytorchjob-mnist", ["spec", "pytorchReplicaSpecs", "Worker", "restartPolicy"], "Sometimes", "restartPolicy"),
    ("pytorchjob-mnist", ["spec", "runPolicy", "cleanPodPolicy"], "Everything", "cleanPodPolicy"),
    ("pytorchjob-mnist", ["spec", "runPolicy", "backoffLimit"], -1, "backoffLimit"),
    ("pytorchjob-mnist", ["spec", "runPolicy", "ttlSecondsAfterFinish"], 60, "runPolicy"),
    ("pytorchjob-elastic", ["spec", "elasticPolicy", "rdzvBackend"], "zookeeper", "rdzvBackend"),
    ("pytorchjob-elastic", ["spec", "nprocPerNode"], "many", "nprocPerNode"),
    ("pytorchjob-elastic", ["spec", "runPolicy", "schedulingPolicy", "minResources", "cpu"], "four", "minResources"),
    ("tfjob-ps-worker", ["spec", "tfReplicaSpecs", "Chief", "replicas"], 2, "Chief.replicas"),
    ("tfjob-ps-worker", ["spec", "successPolicy"], "AnyWorker", "successPolicy"),
    ("tfjob-ps-worker", ["spec", "pytorchReplicaSpecs"], {}, "spec"),
    ("tfjob-ps-worker", ["status", "conditions", 0, "status"], "Yes", "conditions.0.status"),
    ("tfjob-ps-worker", ["status", "replicaStatuses", "PS", "running"], 2, "replicaStatuses.PS"),
]


@pytest.mark.parametrize("name, path, value, where", MISTAKES, ids=[f"{m[0]}:{m[3]}:{m[2]}" for m in MISTAKES])
def test_the_crds_refuse_what_the_training_operator_refuses(name, path, value, where):
    sample = copy.deepcopy(samples()[name])
    node = sample
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[path[-1]] = value
    errors = crd_errors(sample)
    assert errors and any(where in error for error in errors), errors


def test_a_job_needs_its_replica_specs():
    sample = copy.deepcopy(samples()["tfjob-ps-worker"])
    del sample["spec"]["tfReplicaSpecs"]
    assert any("tfReplicaSpecs" in error for error in crd_errors(sample))


def _properties(schema: dict, *path: str) -> dict:
    for key in path:
        schema = schema["additionalProperties"] if key == "*" else (schema["items"] if key == "[]" else schema["properties"][key])
    return schema


SDK_MODELS = [  # (kubeflow.training model, kind, path in the CRD schema)
    ("KubeflowOrgV1PyTorchJobSpec", "PyTorchJob", ("spec",)),
    ("KubeflowOrgV1TFJobSpec", "TFJob", ("spec",)),
    ("KubeflowOrgV1RunPolicy", "PyTorchJob", ("spec", "runPolicy")),
    ("KubeflowOrgV1RunPolicy", "TFJob", ("spec", "runPolicy")),
    ("KubeflowOrgV1SchedulingPolicy", "TFJob", ("spec", "runPolicy", "schedulingPolicy")),
    ("KubeflowOrgV1ElasticPolicy", "PyTorchJob", ("spec", "elasticPolicy")),
    ("KubeflowOrgV1RDZVConf", "PyTorchJob", ("spec", "elasticPolicy", "rdzvConf", "[]")),
    ("KubeflowOrgV1ReplicaSpec", "PyTorchJob", ("spec", "pytorchReplicaSpecs", "Worker")),
    ("KubeflowOrgV1ReplicaSpec", "TFJob", ("spec", "tfReplicaSpecs", "PS")),
    ("KubeflowOrgV1JobStatus", "TFJob", ("status",)),
    ("KubeflowOrgV1JobCondition", "PyTorchJob", ("status", "conditions", "[]")),
    ("KubeflowOrgV1ReplicaStatus", "PyTorchJob", ("status", "replicaStatuses", "*")),
]


@pytest.mark.parametrize("model, kind, path", SDK_MODELS, ids=[f"{m[1]}:{'.'.join(m[2])}" for m in SDK_MODELS])
def test_the_crds_have_exactly_the_fields_of_the_kubeflow_training_sdk(model, kind, path):
    models = pytest.importorskip("kubeflow.training.models")
    fields = set(getattr(models, model).attribute_map.values())
    assert set(_properties(open_api_schema(kind), *path)["properties"]) == fields


def test_a_job_the_training_sdk_builds_is_valid():
    """What TrainingClient.create_job sends: the SDK's models, serialized by its ApiClient."""
    training = pytest.importorskip("kubeflow.training")
    from kubernetes.client import V1Container, V1ObjectMeta, V1PodSpec, V1PodTemplateSpec

    models = training.models
    template = V1PodTemplateSpec(spec=V1PodSpec(containers=[V1Container(name="pytorch", image="ghcr.io/example/t:1",
                                                                        args=["--lr", "0.1"])]))
    job = models.KubeflowOrgV1PyTorchJob(
        api_version="kubeflow.org/v1", kind="PyTorchJob", metadata=V1ObjectMeta(name="sdk-job", namespace="team-a"),
        spec=models.KubeflowOrgV1PyTorchJobSpec(
            run_policy=models.KubeflowOrgV1RunPolicy(clean_pod_policy="None", backoff_limit=2),
            nproc_per_node="auto",
            pytorch_replica_specs={
                "Master": models.KubeflowOrgV1ReplicaSpec(replicas=1, restart_policy="OnFailure", template=template),
                "Worker": models.KubeflowOrgV1ReplicaSpec(replicas=3, restart_policy="OnFailure", template=template),
            }))
    body = training.ApiClient().sanitize_for_serialization(job)
    assert crd_errors(body) == []


def test_two_controllers_and_their_auth_grants_keep_distinct_names_under_a_long_release(chart_suite):
    """The tuning service and the training operator both hold a -controller Role and an -auth-reviews
    ClusterRole: a long release name is cut before the component, never the component itself."""
    release = "a-release-name-that-is-long-enough-to-need-truncation"
    values = ("tuningService.auth.mode=kubernetes", "trainingOperator.auth.mode=kubernetes",
              "pipelineController.auth.mode=kubernetes")
    objects = chart_suite.objects(Render("mlplatform", set_values=values, release=release))
    names = [(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]) for obj in objects
             if obj["kind"] in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")]
    assert len(names) == len(set(names))
    reviews = sorted(name for kind, _, name in names if kind == "ClusterRole" and name.endswith("-auth-reviews"))
    assert [name.endswith(f"-{component}-auth-reviews") for name, component in
            zip(reviews, ("pipeline-controller", "training-operator", "tuning-service"), strict=True)] == [True] * 3, reviews
    assert all(len(name) <= 63 for kind, _, name in names if not kind.startswith("Cluster"))
