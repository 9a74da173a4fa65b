"""Task states and what the DAG driver and the executor tasks need from the engine.

dag.py and attempts.py depend on this module, never on controller.py, so the engine's modules import
in one direction: controller -> dag, attempts -> states.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from mlplatform.pipelines.ir.placeholders import RunContext
from mlplatform.pipelines.ir.spec import PipelineIR
from mlplatform.pipelines.store.models import Run, Task

FINAL = ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED")
UNSUCCESSFUL = ("FAILED", "CANCELED")


def finish(row: Task, state: str, error: str = "") -> None:
    now = time.time()
    row.state = state
    row.error = error or row.error
    row.finished_at = now
    row.started_at = row.started_at or now
    row.state_history = list(row.state_history or []) + [{"state": state, "at": now, "error": error}]


class EngineHost(Protocol):
    """The engine as the DAG driver and the executor tasks see it (implemented by controller.Engine)."""

    store: object
    runner: object
    root: object
    layout: object
    metrics: object
    executors: object
    stopped: threading.Event

    def context_for(self, run: Run, row: Task) -> RunContext: ...

    def ir_of(self, run: Run) -> PipelineIR: ...

    def root_of(self, run: Run): ...

    def layout_of(self, run: Run): ...

    def post(self, event: tuple) -> None: ...

    def wake_at(self, run_id: str, when: float) -> None: ...
