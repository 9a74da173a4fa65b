"""`mlp release status R`: the release, its components' readiness, the served models and the canary weight."""

from __future__ import annotations

from mlplatform.checks.base import CheckContext
from mlplatform.checks.workloads import WorkloadsCheck
from mlplatform.endpoints import Endpoints
from mlplatform.hooks.config import HookConfig
from mlplatform.release.helm import ReleaseContext


def release_status(context: ReleaseContext, kube) -> dict:
    info = context.status()
    values = context.values(computed=True)
    namespace = info.get("namespace") or context.namespace or "default"
    config = HookConfig(endpoints=Endpoints(services={}, platform="kubernetes", namespace=namespace,
                                            release=context.release),
                        values=values, release=context.release, namespace=namespace)
    workloads = WorkloadsCheck().run(CheckContext(config=config, kube=kube))
    model_server = values.get("modelServer") or {}
    canary = model_server.get("canary") or {}
    return {
        "release": context.release,
        "namespace": namespace,
        "revision": info.get("version"),
        "status": (info.get("info") or {}).get("status"),
        "chart": ((info.get("chart") or {}).get("metadata") or {}).get("version"),
        "components": [{"component": r.component, "ready": not r.failed, "detail": r.detail} for r in workloads],
        "models": {
            "stable": [{"name": m.get("name"), "uri": m.get("uri")} for m in model_server.get("models") or []],
            "canary": [{"name": m.get("name"), "uri": m.get("uri")} for m in canary.get("models") or []]
            if canary.get("enabled") else [],
        },
        "canary": {"enabled": bool(canary.get("enabled")), "weight": canary.get("weight", 0),
                   "router": (model_server.get("router") or {}).get("type")},
    }


def format_status(status: dict) -> str:
    lines = [(f"release {status['release']} (namespace {status['namespace']}): revision {status['revision']}, "
             f"{status['status']}, chart {status['chart']}"), "", "components:"]
    for component in status["components"]:
        lines.append(f"  {'ready' if component['ready'] else 'NOT READY':9}  {component['component']:24} "
                     f"{component['detail']}")
    lines += ["", "models:"]
    for track in ("stable", "canary"):
        for model in status["models"][track]:
            lines.append(f"  {track:7} {model['name']:20} {model['uri']}")
    canary = status["canary"]
    lines += ["", (f"canary: {'on' if canary['enabled'] else 'off'}, weight {canary['weight']}%, "
                  f"router {canary['router']}")]
    return "\n".join(lines)
