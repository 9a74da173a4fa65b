"""`gateway-api`: the weights of the backendRefs of the release's HTTPRoute (Gateway API, GAMMA or a gateway)."""

from __future__ import annotations

from mlplatform.errors import ConfigError
from mlplatform.routers.base import CustomResourceRouter, check_weight, percent

DEFAULT_BACKEND_WEIGHT = 1   # the Gateway API default for a backendRef without a weight
PORT = 8080


class GatewayApiRouter(CustomResourceRouter):
    name = router_type = "gateway-api"
    group, version, plural, kind = "gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"

    def get_weight(self) -> int:
        weights: dict[str, int] = {}
        for rule in self._routed_rules(self.read_object()):
            for ref in rule["backendRefs"]:
                weights[ref["name"]] = weights.get(ref["name"], 0) + ref.get("weight", DEFAULT_BACKEND_WEIGHT)
        return percent(weights.get(self.object_name("canary"), 0), sum(weights.values()))

    def set_weight(self, weight: int) -> None:
        weight = check_weight(weight)
        route = self.read_object()
        for rule in self._routed_rules(route):
            rule["backendRefs"] = [self._backend_ref(rule, "stable", 100 - weight),
                                   self._backend_ref(rule, "canary", weight)]
        self.replace_object(route)

    def _backend_ref(self, rule: dict, track: str, weight: int) -> dict:
        """The rule's backendRef to `track` with `weight`; its other fields (port, filters) kept."""
        name = self.object_name(track)
        existing = next((ref for ref in rule["backendRefs"] if ref.get("name") == name), {"name": name, "port": PORT})
        return {**existing, "weight": weight}

    def _routed_rules(self, route: dict) -> list[dict]:
        """The rules that send traffic to the model server's tracks."""
        tracks = {self.object_name("stable"), self.object_name("canary")}
        rules = [rule for rule in (route.get("spec") or {}).get("rules") or []
                 if any(ref.get("name") in tracks for ref in rule.get("backendRefs") or [])]
        if not rules:
            raise ConfigError(f"{self.describe_object()} has no rule with a backendRef to {self.object_name('stable')}")
        return rules
