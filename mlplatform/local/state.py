"""The state directory of one local-mode platform and what lives in it (contracts §7).

    <state-dir>/endpoints.json      where each component answers (mlplatform.endpoints.Endpoints)
    <state-dir>/processes.json      every process `up` started, and the components it could not start
    <state-dir>/values.yaml         the local "release values" (modelServer shape, contracts §6)
    <state-dir>/logs/<process>.log  each process's output; logs/model-server-access.log is nginx's access log
    <state-dir>/<process>/          each process's own files (databases, configs, model repositories)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlplatform.endpoints import Endpoints
from mlplatform.errors import ConfigError

# Every child process carries this variable (the state dir's absolute path), so `down` finds each
# process of this platform, even one that left its process group.
STATE_MARKER = "MLP_LOCAL_STATE_DIR"


@dataclass(frozen=True)
class StateDir:
    root: Path

    @classmethod
    def at(cls, path: Path | str) -> StateDir:
        return cls(Path(path).resolve())

    @property
    def endpoints_file(self) -> Path:
        return self.root / "endpoints.json"

    @property
    def processes_file(self) -> Path:
        return self.root / "processes.json"

    @property
    def values_file(self) -> Path:
        return self.root / "values.yaml"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, process: str) -> Path:
        return self.logs / f"{process}.log"

    def workdir(self, process: str) -> Path:
        """The directory a process keeps its own files in."""
        return self.root / process

    def model_repository(self, track: str) -> Path:
        """The MLServer model repository of `track` (stable or canary)."""
        return self.workdir(f"model-server-{track}") / "models"

    def read_endpoints(self) -> Endpoints:
        return Endpoints.read(self.endpoints_file)

    def read_processes(self) -> dict:
        """{"processes": [...], "unavailable": {name: reason}}; empty when the platform never started."""
        try:
            data = json.loads(self.processes_file.read_text())
        except FileNotFoundError:
            return {"processes": [], "unavailable": {}}
        except json.JSONDecodeError as error:
            raise ConfigError(f"{self.processes_file} is not valid JSON: {error}") from None
        return data

    def write_processes(self, processes: list[dict], unavailable: dict[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = {"processes": processes, "unavailable": unavailable}
        self.processes_file.write_text(json.dumps(data, indent=2) + "\n")

    def read_values(self) -> dict:
        if not self.values_file.exists():
            return {}
        data = yaml.safe_load(self.values_file.read_text()) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{self.values_file}: the top level must be a mapping")
        return data

    def write_values(self, values: dict) -> None:
        self.values_file.write_text(yaml.safe_dump(values, sort_keys=False))
