"""Storage of contributions through SQLAlchemy 2 (SQLite or PostgreSQL).

The schema is created and upgraded by the Alembic migrations shipped in
``qdframe/network/server/migrations``; both databases use the same migrations.
SQLite runs in WAL mode with ``synchronous=FULL`` so that an acknowledged
contribution survives a killed server process (and a power cut).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    false,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError

from qdframe.errors import ConfigError
from qdframe.network.aggregation import Record

__all__ = [
    "StoredContribution",
    "check_database_url",
    "checkpoint",
    "contributions",
    "contributions_by_id",
    "count_installations",
    "count_rows",
    "create_database_engine",
    "default_database_url",
    "idempotency_keys",
    "ids_above",
    "installations",
    "iter_contributions",
    "load_or_create_secret",
    "metadata",
    "prune_idempotency",
    "record_installation",
    "server_secrets",
    "upgrade_schema",
]

metadata = MetaData()

_Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only

contributions = Table(
    "contributions",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("received_at", Float, nullable=False),
    Column("qdframe_version", String(32), nullable=False),
    Column("system_type", String(64), nullable=False),
    Column("install_token", String(32), nullable=False),
    Column("suite", String(32), nullable=False),
    Column("savings", Float, nullable=False),
    Column("energy_savings", Float, nullable=True),
    Column("quantum_advantage", Boolean, nullable=False),
    Column("settings", Text, nullable=False),
    Column("workloads", Text, nullable=False),
    # Whether install_token is an identity this server issued; rows stored
    # before identities existed are kept but never counted.
    Column("verified", Boolean, nullable=False, server_default=false()),
    Index("ix_contributions_version_system", "qdframe_version", "system_type"),
    Index("ix_contributions_token", "install_token"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    Column("contribution_id", _Id, ForeignKey("contributions.id"), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_idempotency_created", "created_at"),
)


server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

installations = Table(
    "installations",
    metadata,
    Column("install_id", String(32), primary_key=True),
    Column("issued_at", Float, nullable=False),
)


@dataclass(frozen=True)
class StoredContribution:
    """A contribution row, with what the view needs."""

    id: int
    qdframe_version: str
    system_type: str
    record: Record
    verified: bool = True


def default_database_url() -> str:
    """An SQLite file under the user's data directory (``$XDG_DATA_HOME/qdframe``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'qdframe' / 'network.sqlite3'}"


def check_database_url(url: str) -> str:
    """Return the dialect name of ``url`` (``sqlite`` or ``postgresql``).

    :raises ConfigError: the URL is malformed or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"invalid database URL: {exc}",
            key_path="--db",
            allowed="sqlite:///path/to/file.db or postgresql+psycopg://user:pw@host/db",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"unsupported database {backend!r}",
            key_path="--db",
            allowed="sqlite:///path/to/file.db or postgresql+psycopg://user:pw@host/db",
        )
    return backend


def _normalise(url: str) -> str:
    # The bare scheme would pick psycopg2, which qdframe[postgres] does not install.
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_database_engine(url: str) -> Engine:
    """An engine for ``url`` with the durability settings the server relies on.

    :raises ConfigError: the URL is unsupported, or the driver is missing.
    """
    backend = check_database_url(url)
    if backend == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30.0, "check_same_thread": False}, pool_size=8
        )
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(_normalise(url), pool_size=8, max_overflow=4, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"PostgreSQL needs a driver that is not installed ({exc.name})",
            key_path="--db",
            allowed='pip install "qdframe[postgres]"',
        ) from None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN
        # (and BEGIN IMMEDIATE for the writer) is issued exactly when we say.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Checkpoints run on the refresher thread (see ``checkpoint``), not
        # inside a contribution's commit, where they would add latency.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def upgrade_schema(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _record_from_row(row: Any) -> StoredContribution:
    workloads_raw: dict[str, Any] = json.loads(row.workloads)
    workloads = {
        name: (float(entry["savings"]), dict(entry.get("settings", {})))
        for name, entry in workloads_raw.items()
    }
    return StoredContribution(
        id=int(row.id),
        qdframe_version=row.qdframe_version,
        system_type=row.system_type,
        verified=bool(row.verified),
        record=Record(
            token=row.install_token,
            savings=float(row.savings),
            quantum_advantage=bool(row.quantum_advantage),
            received_at=float(row.received_at),
            settings=json.loads(row.settings),
            energy_savings=None if row.energy_savings is None else float(row.energy_savings),
            workloads=workloads,
        ),
    )


def iter_contributions(
    engine: Engine, *, after_id: int = 0, batch: int = 5000
) -> Iterator[StoredContribution]:
    """Every contribution with an id above ``after_id``, in id order."""
    last = after_id
    while True:
        with engine.connect() as connection:
            rows: Sequence[Any] = connection.execute(
                select(contributions)
                .where(contributions.c.id > last)
                .order_by(contributions.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield _record_from_row(row)
        last = int(rows[-1].id)


def ids_above(engine: Engine, floor: int) -> list[int]:
    """Ids of every contribution above ``floor`` (cheap: the primary key index only)."""
    with engine.connect() as connection:
        result = connection.execute(
            select(contributions.c.id).where(contributions.c.id > floor)
        ).scalars()
        return [int(i) for i in result]


def contributions_by_id(
    engine: Engine, ids: Sequence[int], *, chunk: int = 500
) -> list[StoredContribution]:
    """The contributions with these ids."""
    found: list[StoredContribution] = []
    for start in range(0, len(ids), chunk):
        with engine.connect() as connection:
            rows = connection.execute(
                select(contributions).where(contributions.c.id.in_(ids[start : start + chunk]))
            ).all()
        found.extend(_record_from_row(row) for row in rows)
    return found


def count_rows(engine: Engine) -> tuple[int, int]:
    """``(number of contributions, highest id)``: a cheap change detector."""
    with engine.connect() as connection:
        count, highest = connection.execute(
            select(func.count(), func.coalesce(func.max(contributions.c.id), 0)).select_from(
                contributions
            )
        ).one()
    return int(count), int(highest)


def checkpoint(engine: Engine, *, truncate: bool = False) -> None:
    """Copy the SQLite write-ahead log into the database file (no-op elsewhere).

    ``PASSIVE`` never blocks the writer; ``TRUNCATE`` (at shutdown) also
    empties the log.
    """
    if engine.dialect.name != "sqlite":
        return
    mode = "TRUNCATE" if truncate else "PASSIVE"
    with engine.connect() as connection:
        connection.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")


def prune_idempotency(engine: Engine, ttl_s: float) -> int:
    """Forget idempotency keys older than ``ttl_s``; returns how many were removed."""
    cutoff = time.time() - ttl_s
    connection = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
    with connection, connection.begin():
        result = connection.execute(
            idempotency_keys.delete().where(idempotency_keys.c.created_at < cutoff)
        )
    return int(result.rowcount or 0)


def load_or_create_secret(engine: Engine, name: str, make: Callable[[], str]) -> str:
    """The secret stored under ``name``, created with ``make()`` on first use.

    Several processes starting at once on one database agree: the first
    insert wins and the others read it back.
    """
    with engine.connect() as connection:
        found = connection.execute(
            select(server_secrets.c.value).where(server_secrets.c.name == name)
        ).scalar()
    if found is not None:
        return str(found)
    try:
        connection = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with connection, connection.begin():
            connection.execute(
                server_secrets.insert().values(name=name, value=make(), created_at=time.time())
            )
    except IntegrityError:
        pass  # another process stored one first
    with engine.connect() as connection:
        return str(
            connection.execute(
                select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).scalar_one()
        )


def record_installation(engine: Engine, install_id: str) -> bool:
    """Remember an issued identity; ``False`` when it was issued before."""
    try:
        connection = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with connection, connection.begin():
            connection.execute(
                installations.insert().values(install_id=install_id, issued_at=time.time())
            )
    except IntegrityError:
        return False
    return True


def count_installations(engine: Engine) -> int:
    """How many identities were issued."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(installations)).scalar_one())
