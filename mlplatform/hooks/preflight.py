"""`mlp hook preflight`: checks the cluster and the values before Helm installs or upgrades anything.

Runs as the pre-install/pre-upgrade hook. Each failed item says exactly what to fix. Exit codes
(contracts §5): 0 passed, 1 the cluster lacks something, 2 values that do not fit together, 3 the
Kubernetes API did not answer.
"""

from __future__ import annotations

import time

import click
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from mlplatform.checks.base import FAILED, PASSED, SKIPPED, WARNING, CheckResult
from mlplatform.checks.report import Report
from mlplatform.cli.options import output_option
from mlplatform.errors import DependencyError
from mlplatform.hooks.config import HookConfig, config_options, hook_namespace, load_config
from mlplatform.kube import api_client, request_timeout

DEFAULT_MIN_KUBERNETES = "1.30"
REQUEST_TIMEOUT = 10.0   # seconds for one API request: an API server that hangs must not hold the hook to its deadline

# The custom resources each traffic router writes, found through discovery.
ROUTER_APIS = {
    "gateway-api": [("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute",
                     "install the Gateway API CRDs (standard channel) and a Gateway controller")],
    "istio": [("networking.istio.io", "v1", "virtualservices", "VirtualService", "install Istio")],
    "nginx": [("networking.k8s.io", "v1", "ingresses", "Ingress", "use Kubernetes 1.19 or newer")],
    "replicas": [],
}

# values key -> (what it is, the keys its Secret must hold)
S3_KEYS = ("root-user", "root-password")
DATABASE_COMPONENTS = ("pipelineController", "tuningService", "trainingOperator", "modelRegistry")
PERSISTENT_COMPONENTS = ("pipelineController", "tuningService", "trainingOperator", "modelRegistry", "minio",
                         "prometheus")
NO_PROVISIONING = "-"   # the charts' storageClass "-": storageClassName "", pre-provisioned volumes only


def _result(check: str, component: str, status: str, detail: str) -> CheckResult:
    return CheckResult(check=check, component=component, status=status, detail=detail)


def _api_unreachable(kube, error: Exception) -> DependencyError:
    """The one line for an API server that did not answer: which server, and why."""
    host = getattr(getattr(kube, "configuration", None), "host", None) or "(unknown server)"
    if isinstance(error, ApiException):
        cause = f"HTTP {error.status} {error.reason}".strip()
    else:
        reason = getattr(error, "reason", None) or error   # urllib3's MaxRetryError wraps the real cause
        cause = str(reason).split("): ", 1)[-1] or type(reason).__name__
    return DependencyError(f"the Kubernetes API at {host} did not answer: {cause} (check the kubeconfig or the "
                           "hook's ServiceAccount, and that the API server is up)")


def check_kubernetes_version(kube, settings: dict, timeout: float = REQUEST_TIMEOUT) -> list[CheckResult]:
    minimum = str(settings.get("minKubernetesVersion") or DEFAULT_MIN_KUBERNETES)
    try:
        info = client.VersionApi(kube).get_code(_request_timeout=request_timeout(timeout))
    except (ApiException, HTTPError) as error:
        raise _api_unreachable(kube, error) from None
    found = (int(info.major), int("".join(ch for ch in info.minor if ch.isdigit())))
    wanted = tuple(int(part) for part in minimum.split("."))
    version = f"{found[0]}.{found[1]}"
    if found < wanted:
        return [_result("kubernetes-version", "cluster", FAILED,
                        f"Kubernetes {version} ({info.git_version}) is older than {minimum}: upgrade the cluster "
                        f"to {minimum} or newer (hooks.preflight.minKubernetesVersion)")]
    return [_result("kubernetes-version", "cluster", PASSED, f"Kubernetes {version} >= {minimum}")]


def _served_resources(kube, group: str, version: str, timeout: float = REQUEST_TIMEOUT) -> set[str] | None:
    """The resource names the API serves for group/version (discovery); None when it serves no such group."""
    path = f"/apis/{group}/{version}"
    try:
        data, _, _ = kube.call_api(path, "GET", response_type="object", auth_settings=["BearerToken"],
                                   _return_http_data_only=False, _request_timeout=request_timeout(timeout))
    except ApiException as error:
        if error.status == 404:
            return None
        raise _api_unreachable(kube, error) from None
    except HTTPError as error:
        raise _api_unreachable(kube, error) from None
    return {resource.get("name") for resource in (data or {}).get("resources", [])}


def check_router_apis(kube, values: dict, timeout: float = REQUEST_TIMEOUT) -> list[CheckResult]:
    model_server = values.get("modelServer") or {}
    if not model_server.get("enabled", True):
        return [_result("router-crds", "model-server", SKIPPED, "modelServer.enabled is false")]
    router = (model_server.get("router") or {}).get("type", "replicas")
    needed = ROUTER_APIS.get(router)
    if needed is None:
        return [_result("router-crds", "model-server", FAILED,
                        f"modelServer.router.type {router!r} is not a router: use one of {sorted(ROUTER_APIS)}")]
    if not needed:
        return [_result("router-crds", "model-server", PASSED, f"router {router} needs no custom resources")]
    results = []
    for group, version, plural, kind, how in needed:
        served = _served_resources(kube, group, version, timeout)
        if served is None or plural not in served:
            results.append(_result("router-crds", "model-server", FAILED,
                                   f"router {router} needs {kind} ({group}/{version}), which this cluster does not "
                                   f"serve: {how}, or set modelServer.router.type to another router (replicas "
                                   "needs nothing)"))
        else:
            results.append(_result("router-crds", "model-server", PASSED, f"{kind} {group}/{version} served"))
    return results


def _requested_storage_classes(values: dict) -> dict[str, list[str]]:
    """storage class name ("" = the cluster default) -> the values keys that ask for it, each named once.

    The charts' rule (mlplatform-lib.storageClass): `<component>.persistence.storageClass`, else
    `global.storageClass`, else the cluster default; "-" asks for no dynamic provisioning, so no class."""
    global_class = (values.get("global") or {}).get("storageClass") or ""
    wanted: dict[str, list[str]] = {}
    for key in PERSISTENT_COMPONENTS:
        component = values.get(key) or {}
        persistence = component.get("persistence") or {}
        if not component.get("enabled", True) or not persistence.get("enabled", True) or persistence.get("existingClaim"):
            continue
        name = persistence.get("storageClass") or global_class
        if name == NO_PROVISIONING:
            continue
        source = f"{key}.persistence.storageClass" if persistence.get("storageClass") else (
            "global.storageClass" if global_class else f"{key}.persistence (cluster default)")
        sources = wanted.setdefault(name, [])
        if source not in sources:
            sources.append(source)
    return wanted


def check_storage_classes(kube, values: dict, settings: dict, timeout: float = REQUEST_TIMEOUT) -> list[CheckResult]:
    wanted = _requested_storage_classes(values)
    if not wanted:
        return [_result("storage-class", "cluster", PASSED, "no volume needs a StorageClass")]
    if not settings.get("clusterReadAccess", True):
        return [_result("storage-class", "cluster", SKIPPED,
                        "hooks.preflight.clusterReadAccess is false: StorageClasses not checked")]
    try:
        classes = client.StorageV1Api(kube).list_storage_class(_request_timeout=request_timeout(timeout)).items
    except ApiException as error:
        if error.status == 403:
            return [_result("storage-class", "cluster", SKIPPED,
                            "no permission to list StorageClasses (hooks.preflight.clusterReadAccess)")]
        raise _api_unreachable(kube, error) from None
    except HTTPError as error:
        raise _api_unreachable(kube, error) from None
    names = {item.metadata.name for item in classes}
    defaults = [item.metadata.name for item in classes
                if (item.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    results = []
    for name, sources in sorted(wanted.items()):
        asked_by = ", ".join(sources)
        if not name:
            if defaults:
                results.append(_result("storage-class", "cluster", PASSED, f"default StorageClass {defaults[0]}"))
            else:
                results.append(_result("storage-class", "cluster", FAILED,
                                       f"no default StorageClass, and {asked_by} names none: set global.storageClass "
                                       f"to one of {sorted(names) or 'the StorageClasses (none exist)'} or mark one "
                                       "default (annotation storageclass.kubernetes.io/is-default-class=true)"))
        elif name in names:
            results.append(_result("storage-class", "cluster", PASSED, f"StorageClass {name} exists"))
        else:
            results.append(_result("storage-class", "cluster", FAILED,
                                   f"StorageClass {name!r} ({asked_by}) does not exist: use one of "
                                   f"{sorted(names) or '(none exist)'} or create it"))
    return results


def _referenced_secrets(values: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """(secret name, values key, required keys) for every existing secret the values name."""
    referenced = []
    s3_secret = ((values.get("global") or {}).get("s3") or {}).get("existingSecret")
    if s3_secret:
        referenced.append((s3_secret, "global.s3.existingSecret", S3_KEYS))
    minio = values.get("minio") or {}
    minio_secret = (minio.get("auth") or {}).get("existingSecret")
    if minio.get("enabled", True) and minio_secret and minio_secret != s3_secret:
        referenced.append((minio_secret, "minio.auth.existingSecret", S3_KEYS))
    for key in DATABASE_COMPONENTS:
        component = values.get(key) or {}
        secret = (component.get("database") or {}).get("existingSecret")
        if component.get("enabled", True) and secret:
            referenced.append((secret, f"{key}.database.existingSecret", ("uri",)))
    return referenced


def check_secrets(kube, values: dict, namespace: str, timeout: float = REQUEST_TIMEOUT) -> list[CheckResult]:
    referenced = _referenced_secrets(values)
    if not referenced:
        return [_result("secrets", "secrets", PASSED, "the values reference no existing secret")]
    core = client.CoreV1Api(kube)
    results = []
    for name, key, required in referenced:
        create = "kubectl create secret generic {} -n {} {}".format(
            name, namespace, " ".join(f"--from-literal={item}=..." for item in required))
        try:
            secret = core.read_namespaced_secret(name, namespace, _request_timeout=request_timeout(timeout))
        except ApiException as error:
            if error.status == 404:
                results.append(_result("secrets", name, FAILED,
                                       f"Secret {name} ({key}) not found in namespace {namespace}: create it "
                                       f"with keys {', '.join(required)} ({create})"))
                continue
            if error.status == 403:
                results.append(_result("secrets", name, FAILED,
                                       f"no permission to read Secret {name} ({key}): the preflight Role lists the "
                                       "secrets the values name; re-render the chart"))
                continue
            raise _api_unreachable(kube, error) from None
        except HTTPError as error:
            raise _api_unreachable(kube, error) from None
        present = {item for item, value in (secret.data or {}).items() if value}
        missing = [item for item in required if item not in present]
        if missing:
            results.append(_result("secrets", name, FAILED,
                                   f"Secret {name} ({key}) lacks non-empty keys {', '.join(missing)}: add them "
                                   f"(it has {', '.join(sorted(present)) or 'none'})"))
        else:
            results.append(_result("secrets", name, PASSED, f"{key}: keys {', '.join(required)} present"))
    return results


def check_values(values: dict) -> list[CheckResult]:
    """Values each subchart accepts alone but that do not make sense together."""
    problems: list[tuple[str, str, str]] = []  # (component, status, detail)
    model_server = values.get("modelServer") or {}
    canary = model_server.get("canary") or {}
    router = model_server.get("router") or {}
    if model_server.get("enabled", True) and canary.get("enabled"):
        if not canary.get("models"):
            problems.append(("model-server", FAILED, ("modelServer.canary.enabled is true but modelServer.canary.models "
                                                     "is empty: list the models the canary serves, or disable it")))
        if router.get("type") == "gateway-api" and not (router.get("gatewayApi") or {}).get("parentRefs"):
            problems.append(("model-server", FAILED, ("a canary with router gateway-api needs "
                                                     "modelServer.router.gatewayApi.parentRefs (the Gateway the "
                                                     "HTTPRoute attaches to): without it no traffic is split")))
        if router.get("type") == "istio" and not (router.get("istio") or {}).get("hosts"):
            problems.append(("model-server", FAILED, ("a canary with router istio needs modelServer.router.istio.hosts "
                                                     "(the VirtualService's hosts): without them no traffic is split")))
    for key in DATABASE_COMPONENTS:
        component = values.get(key) or {}
        if not component.get("enabled", True) or (component.get("database") or {}).get("existingSecret"):
            continue
        replicas = component.get("replicaCount", 1) or 1
        autoscaling = (component.get("autoscaling") or {}).get("enabled")
        persistence = (component.get("persistence") or {}).get("enabled", True)
        if replicas > 1 or autoscaling:
            problems.append((key, FAILED, (f"{key} runs {'autoscaled' if autoscaling else replicas} replicas on SQLite: "
                                          f"set {key}.database.existingSecret to a Secret whose key uri is a "
                                          "PostgreSQL URL (replicas cannot share SQLite)")))
        elif not persistence and not component.get("persistence", {}).get("existingClaim"):
            problems.append((key, FAILED, (f"{key}.persistence.enabled is false and {key}.database.existingSecret is "
                                          "empty: its SQLite state would be lost on every restart; enable persistence "
                                          "or use PostgreSQL")))
        elif (component.get("pdb") or {}).get("enabled"):
            problems.append((key, WARNING, (f"{key} looks like production (pdb.enabled) but keeps its state in SQLite: "
                                           f"set {key}.database.existingSecret to use PostgreSQL")))
    register = (values.get("hooks") or {}).get("register") or {}
    if register.get("enabled", True):
        if register.get("models") and not (values.get("modelRegistry") or {}).get("enabled", True) \
                and not register.get("registryUrl"):
            problems.append(("model-registry", FAILED, ("hooks.register.models lists models but modelRegistry.enabled "
                                                       "is false: enable the registry or clear the list")))
        if register.get("pipelines") and not (values.get("pipelineController") or {}).get("enabled", True):
            problems.append(("pipeline-controller", FAILED, ("hooks.register.pipelines lists pipelines but "
                                                            "pipelineController.enabled is false")))
        buckets = set(register.get("buckets") or [])
        for key in ("modelRegistry", "pipelineController"):
            component = values.get(key) or {}
            bucket = (component.get("artifacts") or {}).get("bucket")
            if component.get("enabled", True) and bucket and bucket not in buckets:
                problems.append((key, FAILED, (f"{key}.artifacts.bucket {bucket!r} is not in hooks.register.buckets: "
                                              "add it, or the component cannot store artifacts")))
    if not problems:
        return [_result("values", "values", PASSED, "the values fit together")]
    return [_result("values", component, status, detail) for component, status, detail in problems]


def run_preflight(config: HookConfig, kube, timeout: float = REQUEST_TIMEOUT) -> Report:
    started = time.monotonic()
    settings = config.hook("preflight")
    namespace = hook_namespace(config)
    results = check_values(config.values)
    results += check_kubernetes_version(kube, settings, timeout)
    results += check_router_apis(kube, config.values, timeout)
    results += check_storage_classes(kube, config.values, settings, timeout)
    results += check_secrets(kube, config.values, namespace, timeout)
    title = f"preflight: release {config.release or '?'} in namespace {namespace}"
    return Report(title=title, results=results, seconds=time.monotonic() - started)


def exit_code(report: Report) -> int:
    """1 when the cluster lacks something, 2 when only the values are at fault, 0 otherwise."""
    if any(result.failed and result.check != "values" for result in report.results):
        return 1
    return 2 if report.failures else 0


@click.command("preflight")
@config_options
@click.option("--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig (default: in-cluster, else $KUBECONFIG).")
@click.option("--kube-context", envvar="HELM_KUBECONTEXT", help="Kubeconfig context.")
@click.option("--timeout", type=float, default=REQUEST_TIMEOUT, show_default=True,
              help="Seconds to wait for one Kubernetes API request.")
@output_option()
def cli(config_path, local, state_dir, values_files, kubeconfig, kube_context, timeout, output):
    """Check the cluster and the values before install or upgrade; say what to fix."""
    config = load_config(config_path, local, state_dir, values_files)
    report = run_preflight(config, api_client(kubeconfig, kube_context), timeout)
    click.echo(report.json() if output == "json" else report.table())
    raise SystemExit(exit_code(report))
