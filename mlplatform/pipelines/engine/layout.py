"""Where a task attempt sees its artifacts and files, for each runner and artifact root.

The engine records artifacts by their stored URI (a local path, or s3://...). What the task sees
depends on where it runs:

- DirectLayout (local runner, local root): the task reads and writes the stored paths themselves.
- StagedLayout (local runner, S3 root): the task sees copies under its own directory; the launcher
  (`run` mode, wrapped around the command) downloads inputs first and uploads outputs after.
- PodLayout (Kubernetes): the task sees s3:// URIs, which the kfp SDK maps to /s3/<bucket>/<key>; the
  Job's launcher containers fill /s3 before the task and upload from it after, together with the
  task's output files (/mlp/outputs), which the controller then reads from S3.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mlplatform.pipelines.artifacts import REMOTE_SCHEMES, ArtifactRoot
from mlplatform.pipelines.engine import executor_input
from mlplatform.pipelines.ir.placeholders import local_path
from mlplatform.pipelines.launcher.manifest import Manifest, Transfer

POD_OUTPUTS_DIR = "/mlp/outputs"
POD_EXIT_CODE_FILE = "/mlp/exit_code"
POD_IMPORTS_DIR = "/s3/.mlp-imports"  # inside the volume the Job's launcher containers fill
POD_WORKSPACE_DIR = "/kfp-workspace"  # where KFP mounts the run's workspace volume


@dataclass
class TaskFiles:
    executor_input: dict  # the ExecutorInput as the task sees it
    outputs_dir: str  # where the controller reads output files (a path or an s3:// URI)
    wrapper: list[str] = field(default_factory=list)  # put before the task's command
    staging: Manifest | None = None  # Kubernetes: what the Job's launcher containers move
    stored_uris: dict[str, str] = field(default_factory=dict)  # task-view URI -> stored URI


class Layout(ABC):
    def __init__(self, root: ArtifactRoot, work_dir: Path):
        self.root = root
        self.work_dir = work_dir

    def io_dir(self, task_id: str, attempt: int) -> Path:
        return self.work_dir / "io" / task_id / str(attempt)

    def workspace(self, run_id: str) -> str:
        """The directory every task of a run shares ({{$.workspace_path}}, PipelineConfig.workspace)."""
        path = self.work_dir / "workspaces" / run_id
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    @abstractmethod
    def prepare(
        self,
        task_id: str,
        attempt: int,
        component: dict,
        parameters: dict,
        artifacts: dict[str, list[dict]],
        output_uris: dict[str, str],
        run_id: str,
    ) -> TaskFiles:
        """Files and ExecutorInput for one attempt; `artifacts` and `output_uris` carry stored URIs."""


def staged_view(uri: str, staging: Path) -> str:
    """Where a local task sees an artifact: a remote one's download under `staging`, file:// as its path."""
    if uri.startswith("file://"):
        return uri[len("file://") :]
    for scheme in REMOTE_SCHEMES:
        if uri.startswith(scheme):
            return str(staging / scheme.rstrip(":/") / uri[len(scheme) :].replace("?", "_"))
    return uri


def stage_inputs(artifacts: dict[str, list[dict]], view: Callable[[str], str]) -> tuple[dict, list, dict]:
    """(the artifacts as the task sees them, the downloads that fill those views, view -> stored URI).

    `view` gives the URI the task sees for a stored one; the download goes where the kfp SDK reads it."""
    views = {item["uri"]: view(item["uri"]) for items in artifacts.values() for item in items}
    seen = {
        name: [{**item, "uri": views[item["uri"]]} for item in items] for name, items in artifacts.items()
    }
    downloads = [
        Transfer(uri, local_path(path)) for uri, path in views.items() if uri.startswith(REMOTE_SCHEMES)
    ]
    return seen, downloads, {path: uri for uri, path in views.items() if path != uri}


def launcher_wrapper(io_dir: Path, manifest: Manifest) -> list[str]:
    """The command prefix that has the launcher move the manifest's files around the task."""
    io_dir.mkdir(parents=True, exist_ok=True)
    (io_dir / "manifest.json").write_text(manifest.to_json())
    launcher = [sys.executable, "-m", "mlplatform.pipelines.launcher", "run"]
    return [*launcher, "--manifest", f"@{io_dir / 'manifest.json'}", "--"]


class DirectLayout(Layout):
    def prepare(self, task_id, attempt, component, parameters, artifacts, output_uris, run_id) -> TaskFiles:
        io_dir = self.io_dir(task_id, attempt)
        io_dir.mkdir(parents=True, exist_ok=True)  # dsl.get_uri() points here
        for uri in output_uris.values():
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        task_artifacts, downloads, views = stage_inputs(
            artifacts, partial(staged_view, staging=io_dir / "imports")
        )
        wrapper = launcher_wrapper(io_dir, Manifest(downloads)) if downloads else []
        built = executor_input.build(component, parameters, task_artifacts, output_uris, str(io_dir))
        return TaskFiles(built, str(io_dir), wrapper=wrapper, stored_uris=views)


class StagedLayout(Layout):
    def prepare(self, task_id, attempt, component, parameters, artifacts, output_uris, run_id) -> TaskFiles:
        io_dir = self.io_dir(task_id, attempt)
        task_artifacts, downloads, views = stage_inputs(
            artifacts, partial(staged_view, staging=io_dir / "artifacts")
        )
        task_outputs = {name: staged_view(uri, io_dir / "artifacts") for name, uri in output_uris.items()}
        uploads = [
            Transfer(uri, task_outputs[name]) for name, uri in output_uris.items() if uri.startswith("s3://")
        ]
        views.update({task_outputs[name]: uri for name, uri in output_uris.items()})
        wrapper = launcher_wrapper(io_dir, Manifest(downloads, uploads))
        built = executor_input.build(component, parameters, task_artifacts, task_outputs, str(io_dir))
        return TaskFiles(built, str(io_dir), wrapper=wrapper, stored_uris=views)


class PodLayout(Layout):
    def workspace(self, run_id: str) -> str:
        return POD_WORKSPACE_DIR

    def prepare(self, task_id, attempt, component, parameters, artifacts, output_uris, run_id) -> TaskFiles:
        outputs_uri = self.root.uri(run_id, ".mlp", task_id, str(attempt))
        artifacts, downloads, _ = stage_inputs(artifacts, pod_view)
        uploads = [Transfer(uri, local_path(uri)) for uri in output_uris.values()]
        uploads.append(Transfer(outputs_uri, POD_OUTPUTS_DIR))
        manifest = Manifest(
            downloads,
            uploads,
            exit_code_file=POD_EXIT_CODE_FILE,
            executor_output=f"{POD_OUTPUTS_DIR}/{executor_input.EXECUTOR_OUTPUT_FILE}",
        )
        built = executor_input.build(component, parameters, artifacts, output_uris, POD_OUTPUTS_DIR)
        return TaskFiles(built, outputs_uri, staging=manifest)


def pod_view(uri: str) -> str:
    """s3:// inputs as KFP gives them (the SDK reads /s3/...); other imports downloaded into the /s3 volume."""
    return uri if uri.startswith("s3://") else staged_view(uri, Path(POD_IMPORTS_DIR))


def make_layout(runner_kind: str, root: ArtifactRoot, work_dir: Path) -> Layout:
    if runner_kind == "kubernetes":
        return PodLayout(root, work_dir)
    return StagedLayout(root, work_dir) if root.is_s3 else DirectLayout(root, work_dir)
