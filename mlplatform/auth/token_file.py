"""The platform's own callers (the hook Jobs, the tuning service's pipeline-run trials) authenticate with a
ServiceAccount token read from a file, as KFP's in-cluster clients do (ServiceAccountTokenVolumeCredentials).

    token = TokenFile.from_env()            # $KF_PIPELINES_SA_TOKEN_PATH, else the projected token's path
    requests.get(url, headers=token.headers())
    kfp.Client(host=url, credentials=token.kfp_credentials())   # read again on every request (kubelet rotates it)

The services' TokenReview names no audience, so the token is one for the API server's own audience: the hook
Jobs project it without `audience`, and a pod's automounted token is one too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlplatform.errors import ConfigError

TOKEN_PATH_VARIABLE = "KF_PIPELINES_SA_TOKEN_PATH"                       # KFP's variable, the same meaning
PROJECTED_TOKEN_PATH = Path("/var/run/secrets/kubeflow/pipelines/token")  # where the hook Jobs mount it (KFP's)
POD_TOKEN_PATH = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")  # a pod's automounted token


class MissingToken(ConfigError):
    """The service is multi-user (auth.mode kubernetes) and the caller has no token to show."""


@dataclass(frozen=True)
class TokenFile:
    path: Path

    @classmethod
    def from_env(cls) -> TokenFile:
        return cls(Path(os.environ.get(TOKEN_PATH_VARIABLE) or PROJECTED_TOKEN_PATH))

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> str:
        try:
            token = self.path.read_text().strip()
        except OSError as error:
            raise MissingToken(f"no service account token at {self.path} ({error.strerror or error}): in "
                               f"auth.mode kubernetes the caller sends one (${TOKEN_PATH_VARIABLE})") from None
        if not token:
            raise MissingToken(f"the service account token file {self.path} is empty")
        return token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read()}"}

    def kfp_credentials(self):
        """kfp.Client(credentials=...): the token read again before each request."""
        from kfp.client.token_credentials_base import TokenCredentialsBase

        token_file = self

        class FileCredentials(TokenCredentialsBase):
            def refresh_api_key_hook(self, config) -> None:
                config.api_key["authorization"] = token_file.read()

        return FileCredentials()
