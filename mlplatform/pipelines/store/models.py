"""Tables. Times are epoch seconds (floats sort and compare the same on SQLite and PostgreSQL);
structured values (IR, parameters, outputs, histories) are JSON.

A run's tasks form a tree that mirrors its DAG: executor and importer tasks are leaves; DAG tasks
(nested pipelines, condition and exit-handler groups), loops and loop iterations hold children.
`path` names a task uniquely within its run ("exit-handler-1/for-loop-2/0/square"): the engine finds
tasks by path, so a restarted controller rebuilds its view from these rows alone.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    def __init__(self, **values):
        """Column defaults apply at construction too (SQLAlchemy applies them only on INSERT), so a
        record is complete before it is stored: the engine reads new rows before they are written."""
        for column in self.__table__.columns:
            if column.key not in values and column.default is not None:
                default = column.default
                values[column.key] = default.arg(None) if default.is_callable else default.arg
        for key, value in values.items():
            setattr(self, key, value)


class Experiment(Base):
    """Names are unique within a namespace, as in KFP ("Default" in each namespace)."""

    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("display_name", "namespace"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    namespace: Mapped[str] = mapped_column(String(63), default="")
    storage_state: Mapped[str] = mapped_column(String(16), default="AVAILABLE")
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class Pipeline(Base):
    """Shared (namespace "") or private to a namespace; names are unique within a namespace, as in KFP."""

    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("name", "namespace"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    namespace: Mapped[str] = mapped_column(String(63), default="")
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class PipelineVersion(Base):
    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    pipeline_spec: Mapped[dict] = mapped_column(JSON)
    platform_spec: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    code_source_url: Mapped[str] = mapped_column(Text, default="")


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    pipeline_version_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    pipeline_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # A snapshot of the IR: the run keeps what it ran even if the version is deleted later.
    pipeline_spec: Mapped[dict] = mapped_column(JSON)
    platform_spec: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)  # as given in runtime_config
    pipeline_root: Mapped[str] = mapped_column(Text, default="")
    service_account: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="PENDING", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    storage_state: Mapped[str] = mapped_column(String(16), default="AVAILABLE")
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    scheduled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    state_history: Mapped[list] = mapped_column(JSON, default=list)
    outputs: Mapped[dict] = mapped_column(JSON, default=dict)
    recurring_run_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    namespace: Mapped[str] = mapped_column(String(63), default="", index=True)  # its experiment's


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("run_id", "path"), Index("ix_tasks_cache", "cache_key", "state"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255))  # the task's name in its DAG
    kind: Mapped[str] = mapped_column(String(16))  # executor importer dag loop iteration
    component: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # attempts started so far
    runner_name: Mapped[str] = mapped_column(String(63), default="")  # the current attempt on the runner
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    cache_key: Mapped[str] = mapped_column(String(64), default="")
    cached_from: Mapped[str] = mapped_column(String(36), default="")  # the task whose outputs were reused
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    next_attempt_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    state_history: Mapped[list] = mapped_column(JSON, default=list)
    log: Mapped[str] = mapped_column(Text, default="")  # kept when each attempt ends
    # The current attempt's files and policies, so a restarted controller can still read its outputs.
    launch: Mapped[dict] = mapped_column(JSON, default=dict)


class RecurringRun(Base):
    """A run template and its trigger. `next_fire_at` moves forward in the same transaction that stores
    the run it fired, so a restarted controller never fires the same time twice."""

    __tablename__ = "recurring_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id"), index=True)
    namespace: Mapped[str] = mapped_column(String(63), default="", index=True)  # its experiment's
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    pipeline_version_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    pipeline_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    pipeline_spec: Mapped[dict] = mapped_column(JSON)
    platform_spec: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    pipeline_root: Mapped[str] = mapped_column(Text, default="")
    service_account: Mapped[str] = mapped_column(String(255), default="")
    trigger: Mapped[dict] = mapped_column(JSON)  # {"cron_schedule": ...} or {"periodic_schedule": ...}
    max_concurrency: Mapped[int] = mapped_column(Integer, default=1)
    no_catchup: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_fire_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)
