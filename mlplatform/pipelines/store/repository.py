"""The Store: every read and write of the controller's SQL state goes through here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mlplatform.pipelines.errors import AlreadyExists, FailedPrecondition, NotFound
from mlplatform.pipelines.store.listing import ListQuery, Page, list_page
from mlplatform.pipelines.store.models import (
    Base,
    Experiment,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    Task,
)

DEFAULT_EXPERIMENT = "Default"
ACTIVE_RUN_STATES = ("PENDING", "RUNNING", "CANCELING")

_EXPERIMENT_COLUMNS = {
    "display_name": Experiment.display_name,
    "name": Experiment.display_name,
    "created_at": Experiment.created_at,
    "id": Experiment.id,
    "experiment_id": Experiment.id,
    "namespace": Experiment.namespace,
    "storage_state": Experiment.storage_state,
}
_PIPELINE_COLUMNS = {
    "display_name": Pipeline.display_name,
    "name": Pipeline.name,
    "created_at": Pipeline.created_at,
    "id": Pipeline.id,
    "pipeline_id": Pipeline.id,
    "namespace": Pipeline.namespace,
}
_VERSION_COLUMNS = {
    "display_name": PipelineVersion.display_name,
    "name": PipelineVersion.name,
    "created_at": PipelineVersion.created_at,
    "id": PipelineVersion.id,
    "pipeline_version_id": PipelineVersion.id,
}
_RECURRING_COLUMNS = {
    "display_name": RecurringRun.display_name,
    "name": RecurringRun.display_name,
    "created_at": RecurringRun.created_at,
    "id": RecurringRun.id,
    "recurring_run_id": RecurringRun.id,
    "experiment_id": RecurringRun.experiment_id,
    "namespace": RecurringRun.namespace,
}
_RUN_COLUMNS = {
    "display_name": Run.display_name,
    "name": Run.display_name,
    "created_at": Run.created_at,
    "finished_at": Run.finished_at,
    "id": Run.id,
    "run_id": Run.id,
    "state": Run.state,
    "experiment_id": Run.experiment_id,
    "pipeline_version_id": Run.pipeline_version_id,
    "storage_state": Run.storage_state,
    "namespace": Run.namespace,
}


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        Base.metadata.create_all(engine)
        _add_missing_columns(engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> str | None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None

    # --- experiments --------------------------------------------------------------------------

    def create_experiment(self, display_name: str, description: str = "", namespace: str = "") -> Experiment:
        experiment = Experiment(
            display_name=display_name, description=description or "", namespace=namespace or ""
        )
        try:
            with self.session() as session:
                session.add(experiment)
        except IntegrityError:
            raise AlreadyExists(f"experiment {display_name!r} already exists") from None
        return experiment

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self.session() as session:
            experiment = session.get(Experiment, experiment_id)
        if experiment is None:
            raise NotFound(f"experiment {experiment_id} not found")
        return experiment

    def default_experiment(self, namespace: str = "") -> Experiment:
        """The namespace's "Default" experiment, created when first needed."""
        with self.session() as session:
            found = session.scalar(select(Experiment).where(Experiment.display_name == DEFAULT_EXPERIMENT,
                                                            Experiment.namespace == namespace))
        if found is not None:
            return found
        try:
            return self.create_experiment(DEFAULT_EXPERIMENT, "runs created without an experiment", namespace)
        except AlreadyExists:  # created concurrently
            return self.default_experiment(namespace)

    def list_experiments(self, query: ListQuery, namespace: str = "") -> Page:
        statement = select(Experiment)
        if namespace:
            statement = statement.where(Experiment.namespace == namespace)
        with self.session() as session:
            return list_page(session, statement, _EXPERIMENT_COLUMNS, query, Experiment.created_at)

    def set_experiment_storage(self, experiment_id: str, state: str) -> None:
        self.get_experiment(experiment_id)
        with self.session() as session:
            session.execute(
                update(Experiment).where(Experiment.id == experiment_id).values(storage_state=state)
            )
            session.execute(update(Run).where(Run.experiment_id == experiment_id).values(storage_state=state))

    def delete_experiment(self, experiment_id: str) -> None:
        self.get_experiment(experiment_id)
        with self.session() as session:
            if session.scalar(select(Run.id).where(Run.experiment_id == experiment_id).limit(1)):
                raise FailedPrecondition(f"experiment {experiment_id} still has runs; delete them first")
            session.execute(delete(Experiment).where(Experiment.id == experiment_id))

    def last_run_created_at(self, experiment_id: str) -> float | None:
        with self.session() as session:
            return session.scalar(
                select(Run.created_at)
                .where(Run.experiment_id == experiment_id)
                .order_by(Run.created_at.desc())
                .limit(1)
            )

    # --- pipelines and versions ---------------------------------------------------------------

    def create_pipeline(self, pipeline: Pipeline, version: PipelineVersion | None = None) -> Pipeline:
        """Add a pipeline, and its first version when given, in one transaction."""
        try:
            with self.session() as session:
                session.add(pipeline)
                session.flush()
                if version is not None:
                    version.pipeline_id = pipeline.id
                    session.add(version)
        except IntegrityError:
            raise AlreadyExists(f"pipeline {pipeline.name!r} already exists") from None
        return pipeline

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        with self.session() as session:
            pipeline = session.get(Pipeline, pipeline_id)
        if pipeline is None:
            raise NotFound(f"pipeline {pipeline_id} not found")
        return pipeline

    def get_pipeline_by_name(self, name: str, namespace: str = "") -> Pipeline:
        with self.session() as session:
            pipeline = session.scalar(select(Pipeline).where(Pipeline.name == name, Pipeline.namespace == namespace))
        if pipeline is None:
            where = f" in namespace {namespace}" if namespace else ""
            raise NotFound(f"pipeline named {name!r} not found{where}")
        return pipeline

    def list_pipelines(self, query: ListQuery, namespace: str | None = None) -> Page:
        """Every pipeline (namespace None), or those of one namespace ("" for the shared ones), as KFP."""
        statement = select(Pipeline)
        if namespace is not None:
            statement = statement.where(Pipeline.namespace == namespace)
        with self.session() as session:
            return list_page(session, statement, _PIPELINE_COLUMNS, query, Pipeline.created_at)

    def delete_pipeline(self, pipeline_id: str, cascade: bool = False) -> None:
        self.get_pipeline(pipeline_id)
        with self.session() as session:
            versions = session.scalars(
                select(PipelineVersion.id).where(PipelineVersion.pipeline_id == pipeline_id)
            ).all()
            if versions and not cascade:
                raise FailedPrecondition(
                    f"pipeline {pipeline_id} has {len(versions)} version(s); delete them "
                    "first or pass cascade=true"
                )
            session.execute(delete(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline_id))
            session.execute(delete(Pipeline).where(Pipeline.id == pipeline_id))

    def add_version(self, version: PipelineVersion) -> PipelineVersion:
        self.get_pipeline(version.pipeline_id)
        try:
            with self.session() as session:
                session.add(version)
        except IntegrityError:
            raise AlreadyExists(
                f"pipeline {version.pipeline_id} already has a version named {version.name!r}"
            ) from None
        return version

    def get_version(self, version_id: str, pipeline_id: str | None = None) -> PipelineVersion:
        with self.session() as session:
            version = session.get(PipelineVersion, version_id)
        if version is None or (pipeline_id and version.pipeline_id != pipeline_id):
            raise NotFound(
                f"pipeline version {version_id} not found"
                + (f" in pipeline {pipeline_id}" if pipeline_id else "")
            )
        return version

    def latest_version(self, pipeline_id: str) -> PipelineVersion:
        self.get_pipeline(pipeline_id)
        with self.session() as session:
            version = session.scalar(
                select(PipelineVersion)
                .where(PipelineVersion.pipeline_id == pipeline_id)
                .order_by(PipelineVersion.created_at.desc())
                .limit(1)
            )
        if version is None:
            raise NotFound(f"pipeline {pipeline_id} has no versions")
        return version

    def list_versions(self, pipeline_id: str, query: ListQuery) -> Page:
        self.get_pipeline(pipeline_id)
        statement = select(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline_id)
        with self.session() as session:
            return list_page(session, statement, _VERSION_COLUMNS, query, PipelineVersion.created_at)

    def delete_version(self, pipeline_id: str, version_id: str) -> None:
        self.get_version(version_id, pipeline_id)
        with self.session() as session:
            session.execute(delete(PipelineVersion).where(PipelineVersion.id == version_id))

    # --- runs ---------------------------------------------------------------------------------

    def add_run(self, run: Run) -> Run:
        """Store a run in its experiment's namespace."""
        with self.session() as session:
            run.namespace = _experiment_namespace(session, run.experiment_id)
            session.add(run)
        return run

    def get_run(self, run_id: str) -> Run:
        with self.session() as session:
            run = session.get(Run, run_id)
        if run is None:
            raise NotFound(f"run {run_id} not found")
        return run

    def list_runs(self, query: ListQuery, experiment_id: str = "", namespace: str = "") -> Page:
        statement = select(Run)
        if experiment_id:
            statement = statement.where(Run.experiment_id == experiment_id)
        if namespace:
            statement = statement.where(Run.namespace == namespace)
        with self.session() as session:
            return list_page(session, statement, _RUN_COLUMNS, query, Run.created_at)

    def active_run_ids(self) -> list[str]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(Run.id).where(Run.state.in_(ACTIVE_RUN_STATES)).order_by(Run.created_at)
                )
            )

    def update_run(self, run_id: str, **values) -> None:
        with self.session() as session:
            session.execute(update(Run).where(Run.id == run_id).values(**values))

    def set_run_state(self, run: Run, state: str, error: str = "") -> None:
        """Move a run to `state`, recording the transition (and the finish time for final states)."""
        now = time.time()
        history = list(run.state_history or []) + [{"state": state, "at": now, "error": error}]
        values = {"state": state, "state_history": history, "error": error or run.error}
        if state in ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"):
            values["finished_at"] = now
        if state == "RUNNING" and run.scheduled_at is None:
            values["scheduled_at"] = now
        self.update_run(run.id, **values)
        for key, value in values.items():
            setattr(run, key, value)

    def delete_run(self, run_id: str) -> None:
        self.get_run(run_id)
        with self.session() as session:
            session.execute(delete(Task).where(Task.run_id == run_id))
            session.execute(delete(Run).where(Run.id == run_id))

    # --- recurring runs -----------------------------------------------------------------------

    def add_recurring_run(self, recurring: RecurringRun) -> RecurringRun:
        """Store a recurring run in its experiment's namespace."""
        with self.session() as session:
            recurring.namespace = _experiment_namespace(session, recurring.experiment_id)
            session.add(recurring)
        return recurring

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        with self.session() as session:
            recurring = session.get(RecurringRun, recurring_run_id)
        if recurring is None:
            raise NotFound(f"recurring run {recurring_run_id} not found")
        return recurring

    def list_recurring_runs(self, query: ListQuery, experiment_id: str = "", namespace: str = "") -> Page:
        statement = select(RecurringRun)
        if experiment_id:
            statement = statement.where(RecurringRun.experiment_id == experiment_id)
        if namespace:
            statement = statement.where(RecurringRun.namespace == namespace)
        with self.session() as session:
            return list_page(session, statement, _RECURRING_COLUMNS, query, RecurringRun.created_at)

    def update_recurring_run(self, recurring_run_id: str, **values) -> None:
        self.get_recurring_run(recurring_run_id)
        with self.session() as session:
            session.execute(
                update(RecurringRun)
                .where(RecurringRun.id == recurring_run_id)
                .values(updated_at=time.time(), **values)
            )

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        self.get_recurring_run(recurring_run_id)
        with self.session() as session:
            session.execute(delete(RecurringRun).where(RecurringRun.id == recurring_run_id))

    def due_recurring_runs(self, now: float) -> list[RecurringRun]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(RecurringRun).where(
                        RecurringRun.enabled.is_(True), RecurringRun.next_fire_at <= now
                    )
                )
            )

    def active_runs_of(self, recurring_run_id: str) -> int:
        with self.session() as session:
            return session.scalar(
                select(func.count())
                .select_from(Run)
                .where(Run.recurring_run_id == recurring_run_id, Run.state.in_(ACTIVE_RUN_STATES))
            )

    def fire(self, recurring: RecurringRun, run: Run | None, next_fire_at: float | None) -> bool:
        """Store the run and move the trigger on, together; False when another firing got there first."""
        with self.session() as session:
            moved = session.execute(
                update(RecurringRun)
                .where(RecurringRun.id == recurring.id, RecurringRun.next_fire_at == recurring.next_fire_at)
                .values(next_fire_at=next_fire_at)
            ).rowcount
            if moved and run is not None:
                run.namespace = recurring.namespace
                session.add(run)
            return bool(moved)

    # --- tasks --------------------------------------------------------------------------------

    def tasks_of(self, run_id: str) -> list[Task]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(Task).where(Task.run_id == run_id).order_by(Task.created_at, Task.path)
                )
            )

    def get_task(self, run_id: str, task_id: str) -> Task:
        with self.session() as session:
            task = session.get(Task, task_id)
        if task is None or task.run_id != run_id:
            raise NotFound(f"task {task_id} not found in run {run_id}")
        return task

    def save_task(self, task: Task) -> Task:
        """Insert or update a task row: one UPDATE for a known task (no SELECT first, as merge() would
        do), an INSERT for a new one. Only the engine's scheduler thread writes tasks."""
        table = Task.__table__
        values = {column.key: getattr(task, column.key) for column in table.columns}
        with self.engine.begin() as connection:  # Core, not the ORM: this is the engine's hot path
            changed = table.update().where(table.c.id == task.id).values(**values)
            if not connection.execute(changed).rowcount:
                connection.execute(table.insert().values(**values))
        return task

    def cached_task(self, cache_key: str) -> Task | None:
        """The latest task that ran (not itself from the cache) with this key and succeeded."""
        with self.session() as session:
            return session.scalar(
                select(Task)
                .where(Task.cache_key == cache_key, Task.state == "SUCCEEDED", Task.cached_from == "")
                .order_by(Task.finished_at.desc())
                .limit(1)
            )

    def count_by_state(self, model) -> dict[str, int]:
        with self.session() as session:
            return dict(session.execute(select(model.state, func.count()).group_by(model.state)).all())


_ADDED_COLUMNS = (  # table, column, its SQL type and default
    ("runs", "recurring_run_id", "VARCHAR(36)"),
    ("runs", "namespace", "VARCHAR(63) NOT NULL DEFAULT ''"),
    ("recurring_runs", "namespace", "VARCHAR(63) NOT NULL DEFAULT ''"),
)


def _experiment_namespace(session: Session, experiment_id: str) -> str:
    return session.scalar(select(Experiment.namespace).where(Experiment.id == experiment_id)) or ""


def _add_missing_columns(engine: Engine) -> None:
    """Columns added since a database was created (create_all makes only missing tables). Runs and
    recurring runs of an older database take their experiment's namespace."""
    for table, column, kind in _ADDED_COLUMNS:
        if column in {found["name"] for found in inspect(engine).get_columns(table)}:
            continue
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
            if column == "namespace":
                connection.execute(text(
                    f"UPDATE {table} SET namespace = COALESCE((SELECT experiments.namespace FROM experiments "
                    f"WHERE experiments.id = {table}.experiment_id), '')"))
