"""The launcher manifest: which artifacts move where (see the package docstring)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Transfer:
    uri: str
    path: str


@dataclass
class Manifest:
    downloads: list[Transfer] = field(default_factory=list)
    uploads: list[Transfer] = field(default_factory=list)
    exit_code_file: str = ""  # upload waits for this file (Kubernetes: written by the task's shell wrapper)
    # the task's executor output: an output artifact it gave a custom path (Artifact.set_path) is
    # uploaded from that path instead, as KFP's launcher does
    executor_output: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        document = json.loads(text)
        return cls(
            downloads=[Transfer(**item) for item in document.get("downloads", [])],
            uploads=[Transfer(**item) for item in document.get("uploads", [])],
            exit_code_file=document.get("exit_code_file", ""),
            executor_output=document.get("executor_output", ""),
        )
