"""The training operator's SQL state: one row per job, so a restarted service finds every job it had.

A row holds the manifest as accepted (defaults applied), the status as the Training Operator writes it,
and `runtime`: what the engine needs to find the job's replicas again (the attempt, the local ports).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mlplatform.db import make_engine


class JobExists(Exception):
    pass


@dataclass
class JobRecord:
    kind: str
    namespace: str
    name: str
    uid: str
    manifest: dict
    status: dict = field(default_factory=dict)
    runtime: dict = field(default_factory=dict)
    finished: bool = False
    created_at: float = field(default_factory=time.time)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.namespace, self.name


_metadata = MetaData()
_jobs = Table(
    "training_jobs",
    _metadata,
    Column("kind", String(32), primary_key=True),
    Column("namespace", String(63), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("uid", String(36), nullable=False),
    Column("manifest", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("runtime", Text, nullable=False),
    Column("finished", Boolean, nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)
_JSON = ("manifest", "status", "runtime")


class Store:
    def __init__(self, url: str):
        self.engine = make_engine(url)
        _metadata.create_all(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def create(self, record: JobRecord) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(_jobs).values(**_row(record)))
        except IntegrityError:
            raise JobExists(f"{record.namespace}/{record.name}") from None

    def get(self, kind: str, namespace: str, name: str) -> JobRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(_jobs).where(
                _jobs.c.kind == kind, _jobs.c.namespace == namespace, _jobs.c.name == name)).mappings().first()
        return _record(row) if row else None

    def jobs(self, kind: str | None = None, namespace: str | None = None,
             unfinished_only: bool = False) -> list[JobRecord]:
        query = select(_jobs).order_by(_jobs.c.created_at)
        if kind is not None:
            query = query.where(_jobs.c.kind == kind)
        if namespace is not None:
            query = query.where(_jobs.c.namespace == namespace)
        if unfinished_only:
            query = query.where(_jobs.c.finished.is_(False))
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def save(self, record: JobRecord) -> None:
        values = {key: value for key, value in _row(record).items() if key not in ("kind", "namespace", "name")}
        with self.engine.begin() as connection:
            connection.execute(update(_jobs).where(
                _jobs.c.kind == record.kind, _jobs.c.namespace == record.namespace, _jobs.c.name == record.name,
                _jobs.c.uid == record.uid).values(**values))

    def delete(self, record: JobRecord) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_jobs).where(
                _jobs.c.kind == record.kind, _jobs.c.namespace == record.namespace, _jobs.c.name == record.name,
                _jobs.c.uid == record.uid))


def _row(record: JobRecord) -> dict:
    row = {name: getattr(record, name) for name in
           ("kind", "namespace", "name", "uid", "finished", "created_at")}
    row.update({name: json.dumps(getattr(record, name)) for name in _JSON})
    return row


def _record(row) -> JobRecord:
    values = dict(row)
    for name in _JSON:
        values[name] = json.loads(values[name])
    return JobRecord(**values)
