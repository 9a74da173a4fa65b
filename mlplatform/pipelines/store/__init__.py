"""SQL state of the pipeline controller (SQLite by default, PostgreSQL in prod)."""

from mlplatform.pipelines.store.models import Experiment, Pipeline, PipelineVersion, RecurringRun, Run, Task
from mlplatform.pipelines.store.repository import Store

__all__ = ["Experiment", "Pipeline", "PipelineVersion", "RecurringRun", "Run", "Store", "Task"]
