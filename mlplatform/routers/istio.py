"""`istio`: the route weights of the release's VirtualService."""

from __future__ import annotations

from mlplatform.errors import ConfigError
from mlplatform.routers.base import CustomResourceRouter, check_weight, percent

PORT = 8080


class IstioRouter(CustomResourceRouter):
    name = router_type = "istio"
    group, version, plural, kind = "networking.istio.io", "v1", "virtualservices", "VirtualService"

    def get_weight(self) -> int:
        canary = total = 0
        for http in self._routed_http(self.read_object()):
            routes = http["route"]
            for route in routes:
                # Istio: a lone destination without a weight takes all the traffic.
                share = route.get("weight", 100 if len(routes) == 1 else 0)
                total += share
                canary += share if self._track_of(route) == "canary" else 0
        return percent(canary, total)

    def set_weight(self, weight: int) -> None:
        weight = check_weight(weight)
        service = self.read_object()
        for http in self._routed_http(service):
            http["route"] = [self._route(http, "stable", 100 - weight), self._route(http, "canary", weight)]
        self.replace_object(service)

    def _route(self, http: dict, track: str, weight: int) -> dict:
        """The destination to `track` with `weight`; its other fields (headers, subset) kept."""
        existing = next((route for route in http["route"] if self._track_of(route) == track),
                        {"destination": {"host": self.object_name(track), "port": {"number": PORT}}})
        return {**existing, "weight": weight}

    def _track_of(self, route: dict) -> str | None:
        host = (route.get("destination") or {}).get("host", "")
        for track in ("stable", "canary"):
            name = self.object_name(track)
            if host == name or host.startswith(f"{name}."):   # short name or <name>.<namespace>.svc...
                return track
        return None

    def _routed_http(self, service: dict) -> list[dict]:
        """The HTTP routes that send traffic to the model server's tracks."""
        routes = [http for http in (service.get("spec") or {}).get("http") or []
                  if any(self._track_of(route) for route in http.get("route") or [])]
        if not routes:
            raise ConfigError(f"{self.describe_object()} has no http route to {self.object_name('stable')}")
        return routes
