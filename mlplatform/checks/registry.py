"""`registry`: the model registry answers, and every model the values name resolves."""

from __future__ import annotations

from mlplatform.checks.base import Check, CheckContext, CheckResult
from mlplatform.errors import MlpError
from mlplatform.registries import open_registry, registry_url


def references(values: dict) -> list[str]:
    """Every model reference the values make: registered versions and aliases, and served models:/ URIs."""
    found: list[str] = []
    for model in ((values.get("hooks") or {}).get("register") or {}).get("models") or []:
        for version in model.get("versions") or []:
            found += [f"{model['name']}@{alias}" for alias in version.get("aliases") or []]
    model_server = values.get("modelServer") or {}
    served = list(model_server.get("models") or [])
    if (model_server.get("canary") or {}).get("enabled"):
        served += (model_server.get("canary") or {}).get("models") or []
    found += [model["uri"] for model in served if str(model.get("uri", "")).startswith("models:/")]
    return list(dict.fromkeys(found))


class RegistryCheck(Check):
    name = "registry"
    description = "the registry reachable and the registered models resolvable"

    def skip_reason(self, context: CheckContext) -> str | None:
        settings = context.config.hook("register")
        if context.endpoints.has("model-registry") or settings.get("registryUrl"):
            return None
        return "no model registry in this platform"

    def run(self, context: CheckContext) -> list[CheckResult]:
        settings = context.config.hook("register")
        try:
            registry = open_registry(settings.get("registry"), registry_url(context.endpoints, settings), settings)
            registry.ping()
        except MlpError as error:
            return [self.failed("model-registry", str(error))]
        results = [self.passed("model-registry", f"{registry.describe()} answers")]
        for reference in references(context.values):
            try:
                info = registry.resolve(reference)
            except MlpError as error:
                results.append(self.failed("model-registry", f"{reference} does not resolve: {error}"))
                continue
            results.append(self.passed("model-registry", f"{reference} -> version {info.version} ({info.source})"))
        return results
