"""MLServer's model repository API (Open Inference Protocol extension): index, load, unload.

`load` makes MLServer read the model's model-settings.json from its repository again; for a model
already loaded it loads the new one and then swaps it in, so requests keep being served.
"""

from __future__ import annotations

import requests

from mlplatform.errors import DependencyError


class ModelRepository:
    def __init__(self, base_url: str, timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def index(self) -> list[dict]:
        """[{"name", "version", "state", "reason"}] for every model MLServer knows."""
        return self._post("/v2/repository/index", json={}).json()

    def load(self, name: str) -> None:
        self._post(f"/v2/repository/models/{name}/load")

    def unload(self, name: str) -> None:
        """Unload `name`; a model MLServer does not have is already unloaded."""
        self._post(f"/v2/repository/models/{name}/unload", missing_ok=True)

    def _post(self, path: str, json: dict | None = None, missing_ok: bool = False) -> requests.Response:
        url = self.base_url + path
        try:
            response = requests.post(url, json=json, timeout=self.timeout)
        except requests.RequestException as error:
            raise DependencyError(f"MLServer at {self.base_url} did not answer POST {path} ({type(error).__name__})") from None
        if response.status_code == 404 and missing_ok:
            return response
        if response.status_code >= 300:
            raise DependencyError(f"MLServer at {self.base_url}: POST {path} -> HTTP {response.status_code}: "
                                  f"{_detail(response)}")
        return response


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("error") or body.get("detail") or body)[:300] if isinstance(body, dict) else str(body)[:300]
