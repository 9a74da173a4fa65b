"""The tuning service's own SQL state: experiments, trials and pushed metric logs.

Optuna keeps its studies in the same database (its own tables). These tables hold what Optuna
does not: the Experiment manifest, each trial's name, Katib state, reason, observation and where it
runs, so that a restarted service finds everything it had. A trial row is written before its task
starts and finalised before Optuna is told (`told` records that Optuna knows), so a crash between
the two is repaired on restart and no finished trial is lost or counted twice.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field, fields
from enum import Enum

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from mlplatform.db import make_engine
from mlplatform.tuning.collectors import MetricLog


class Phase(str, Enum):
    """An experiment's state (its Katib condition)."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def finished(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED)


class TrialState(str, Enum):
    """A trial's state (its Katib condition)."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    EARLY_STOPPED = "EarlyStopped"
    KILLED = "Killed"
    METRICS_UNAVAILABLE = "MetricsUnavailable"  # succeeded without reporting the objective metric

    @property
    def finished(self) -> bool:
        return self not in (TrialState.PENDING, TrialState.RUNNING)


class ExperimentExists(Exception):
    pass


@dataclass(frozen=True)
class OutputRetention:
    """How much trial output the service keeps once a trial ends: the last `max_bytes` of each
    trial's output, for the newest `kept` trials."""

    max_bytes: int = 1024 * 1024
    kept: int = 1000

    def clip(self, output: str) -> str:
        data = output.encode(errors="replace")
        if len(data) <= self.max_bytes:
            return output
        kept = data[-self.max_bytes:].decode(errors="ignore")
        return f"[... {len(data) - self.max_bytes} earlier bytes not kept]\n{kept}"


@dataclass
class ExperimentRecord:
    name: str
    uid: str
    manifest: dict
    phase: Phase = Phase.CREATED
    reason: str = "ExperimentCreated"
    message: str = "Experiment is created"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    completed_at: float | None = None

    @property
    def study_name(self) -> str:
        return f"{self.name}-{self.uid}"


@dataclass
class TrialRecord:
    name: str
    experiment: str
    number: int  # the Optuna trial number
    assignments: list[dict]  # [{"name", "value"}], values as strings
    state: TrialState = TrialState.PENDING
    reason: str = "TrialCreated"
    message: str = "Trial is created"
    observation: list[dict] | None = None  # Katib's observation.metrics
    objective: float | None = None
    told: bool = False  # Optuna has been told the final state
    attempts: int = 1
    run_id: str | None = None  # pipeline trials: the run on the pipeline controller
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    completed_at: float | None = None

    def parameters(self) -> dict[str, str]:
        return {item["name"]: item["value"] for item in self.assignments}


@dataclass(frozen=True)
class TrialSummary:
    """What the controller's reconcile needs of a trial, read without decoding its JSON columns."""

    name: str
    state: TrialState
    objective: float | None


_metadata = MetaData()
_experiments = Table(
    "tuning_experiments",
    _metadata,
    Column("name", String(128), primary_key=True),  # the key: <namespace>.<name>
    Column("uid", String(36), nullable=False),
    Column("manifest", Text, nullable=False),
    Column("phase", String(16), nullable=False, index=True),
    Column("reason", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("completed_at", Float),
)
_trials = Table(
    "tuning_trials",
    _metadata,
    Column("name", String(63), primary_key=True),
    Column(
        "experiment",
        String(128),
        ForeignKey("tuning_experiments.name", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("number", Integer, nullable=False),
    Column("assignments", Text, nullable=False),
    Column("state", String(32), nullable=False, index=True),
    Column("reason", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("observation", Text),
    Column("objective", Float),
    Column("told", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("run_id", String(128)),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("completed_at", Float),
)
_metric_logs = Table(
    "tuning_metric_logs",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "trial", String(63), ForeignKey("tuning_trials.name", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("name", String(255), nullable=False),
    Column("value", String(64), nullable=False),
    Column("timestamp", String(64)),
)
# What each finished trial wrote (its tail, up to OutputRetention.max_bytes), kept after its task is
# deleted, for the newest OutputRetention.kept trials.
_outputs = Table(
    "tuning_trial_outputs",
    _metadata,
    Column("trial", String(63), ForeignKey("tuning_trials.name", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("stored_at", Float, nullable=False, index=True),
)
# Random values the service makes once (mlplatform.tuning.trial_tokens' key).
_secrets = Table(
    "tuning_secrets",
    _metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)
_JSON_COLUMNS = {"manifest", "assignments", "observation"}
_ENUM_COLUMNS = {"phase": Phase, "state": TrialState}


def _to_row(values: dict) -> dict:
    row = {}
    for key, value in values.items():
        if key in _JSON_COLUMNS and value is not None:
            value = json.dumps(value)
        elif isinstance(value, Enum):
            value = value.value
        row[key] = value
    return row


def _from_row(record_type, row) -> object:
    values = {}
    for item in fields(record_type):
        value = row._mapping[item.name]
        if item.name in _JSON_COLUMNS and value is not None:
            value = json.loads(value)
        elif item.name in _ENUM_COLUMNS:
            value = _ENUM_COLUMNS[item.name](value)
        values[item.name] = value
    return record_type(**values)


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        _metadata.create_all(self.engine)
        self._secrets: dict[str, str] = {}

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def secret(self, name: str) -> str:
        """A random value made once and kept in the database, so that replicas and restarts agree on it."""
        if name not in self._secrets:
            if self._stored_secret(name) is None:
                try:
                    with self.engine.begin() as connection:
                        connection.execute(insert(_secrets).values(name=name, value=secrets.token_hex(32)))
                except IntegrityError:
                    pass   # another replica made it meanwhile
            self._secrets[name] = self._stored_secret(name)
        return self._secrets[name]

    def _stored_secret(self, name: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(_secrets.c.value).where(_secrets.c.name == name)).scalar()

    # --- experiments ----------------------------------------------------------------------------------

    def insert_experiment(self, record: ExperimentRecord) -> None:
        row = _to_row({item.name: getattr(record, item.name) for item in fields(ExperimentRecord)})
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(_experiments).values(**row))
        except IntegrityError:
            raise ExperimentExists(record.name) from None

    def experiment(self, name: str) -> ExperimentRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(_experiments).where(_experiments.c.name == name)).first()
        return None if row is None else _from_row(ExperimentRecord, row)

    def experiments(self, *phases: Phase) -> list[ExperimentRecord]:
        query = select(_experiments).order_by(_experiments.c.created_at)
        if phases:
            query = query.where(_experiments.c.phase.in_([phase.value for phase in phases]))
        with self.engine.connect() as connection:
            return [_from_row(ExperimentRecord, row) for row in connection.execute(query)]

    def keys_named(self, name: str) -> list[str]:
        """The keys (`<namespace>.<name>`) of the experiments called `name`, in any namespace."""
        query = select(_experiments.c.name).where(_experiments.c.name.endswith(f".{name}", autoescape=True))
        with self.engine.connect() as connection:
            return [key for key in connection.execute(query).scalars() if key.split(".", 1)[1] == name]

    def update_experiment(self, name: str, **values) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(_experiments).where(_experiments.c.name == name).values(**_to_row(values))
            )

    def delete_experiment(self, name: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_experiments).where(_experiments.c.name == name))

    # --- trials ---------------------------------------------------------------------------------------

    def insert_trial(self, record: TrialRecord) -> None:
        row = _to_row({item.name: getattr(record, item.name) for item in fields(TrialRecord)})
        with self.engine.begin() as connection:
            connection.execute(insert(_trials).values(**row))

    def trial(self, name: str) -> TrialRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(_trials).where(_trials.c.name == name)).first()
        return None if row is None else _from_row(TrialRecord, row)

    def trials(self, experiment: str) -> list[TrialRecord]:
        query = select(_trials).where(_trials.c.experiment == experiment).order_by(_trials.c.number)
        with self.engine.connect() as connection:
            return [_from_row(TrialRecord, row) for row in connection.execute(query)]

    def trial_summaries(self, experiment: str) -> list[TrialSummary]:
        query = (
            select(_trials.c.name, _trials.c.state, _trials.c.objective)
            .where(_trials.c.experiment == experiment)
            .order_by(_trials.c.number)
        )
        with self.engine.connect() as connection:
            return [TrialSummary(row.name, TrialState(row.state), row.objective) for row in connection.execute(query)]

    def update_trial(self, name: str, **values) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(_trials).where(_trials.c.name == name).values(**_to_row(values)))

    # --- pushed metrics ---------------------------------------------------------------------------------

    def add_metric_logs(self, trial: str, logs: list[MetricLog]) -> None:
        rows = [
            {"trial": trial, "name": log.name, "value": log.value, "timestamp": log.timestamp} for log in logs
        ]
        with self.engine.begin() as connection:
            connection.execute(insert(_metric_logs), rows)

    def metric_logs(self, trial: str) -> list[MetricLog]:
        query = select(_metric_logs).where(_metric_logs.c.trial == trial).order_by(_metric_logs.c.id)
        with self.engine.connect() as connection:
            return [MetricLog(row.name, row.value, row.timestamp) for row in connection.execute(query)]

    def clear_metric_logs(self, trial: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_metric_logs).where(_metric_logs.c.trial == trial))

    # --- trial output -------------------------------------------------------------------------------------

    def keep_output(self, trial: str, output: str, retention: OutputRetention) -> None:
        """Store a finished trial's output (clipped), then drop the oldest beyond `retention.kept`."""
        with self.engine.begin() as connection:
            connection.execute(delete(_outputs).where(_outputs.c.trial == trial))
            connection.execute(insert(_outputs).values(trial=trial, text=retention.clip(output), stored_at=time.time()))
            newest = select(_outputs.c.trial).order_by(_outputs.c.stored_at.desc()).limit(retention.kept)
            connection.execute(delete(_outputs).where(_outputs.c.trial.not_in(newest.scalar_subquery())))

    def output(self, trial: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(_outputs.c.text).where(_outputs.c.trial == trial)).scalar()

    # --- monitoring ---------------------------------------------------------------------------------------

    def count_experiments(self) -> dict[str, int]:
        query = select(_experiments.c.phase, func.count()).group_by(_experiments.c.phase)
        with self.engine.connect() as connection:
            return dict(connection.execute(query).all())

    def count_trials(self) -> dict[str, int]:
        query = select(_trials.c.state, func.count()).group_by(_trials.c.state)
        with self.engine.connect() as connection:
            return dict(connection.execute(query).all())
