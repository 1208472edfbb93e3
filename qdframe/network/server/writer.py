"""The single writer thread: group commit of contributions.

Request handlers hand a validated contribution to :class:`Writer` and wait for
its future; the writer collects whatever is queued, stores it in one
transaction and resolves the futures only after the commit returned. A
contribution is therefore acknowledged only once it is durable, and a burst of
requests costs one disk flush instead of one per request.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from qdframe.network.aggregation import Record
from qdframe.network.schemas import ContributionIn
from qdframe.network.server.storage import StoredContribution, contributions, idempotency_keys

__all__ = ["PendingWrite", "WriteOutcome", "Writer"]

_log = logging.getLogger("qdframe.network.server")


@dataclass(frozen=True)
class PendingWrite:
    """One contribution waiting to be stored."""

    contribution: ContributionIn
    response: str
    idempotency_key: str | None
    body_hash: str


@dataclass(frozen=True)
class WriteOutcome:
    """What became of a write.

    ``replayed``: the idempotency key was seen before with the same body and
    ``response`` is the first answer; ``conflict``: the key was seen with a
    different body and nothing was stored.
    """

    response: str
    stored: StoredContribution | None = None
    replayed: bool = False
    conflict: bool = False


class _Stop:
    pass


_STOP = _Stop()


class Writer:
    """A daemon thread that owns every write to the database.

    :param engine: the database.
    :param on_commit: called with the stored rows after each commit and before
        any request is answered, so that reads after an acknowledgement see it.
    :param max_batch: most contributions per transaction.
    """

    def __init__(
        self,
        engine: Engine,
        on_commit: Callable[[Sequence[StoredContribution]], None],
        *,
        max_batch: int = 256,
    ) -> None:
        self._engine = engine
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._queue: queue.Queue[tuple[PendingWrite, Future[WriteOutcome]] | _Stop] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="qdframe-writer", daemon=True)
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then end the thread."""
        if self._started:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._started = False

    def submit(self, write: PendingWrite) -> Future[WriteOutcome]:
        future: Future[WriteOutcome] = Future()
        self._queue.put((write, future))
        return future

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if isinstance(first, _Stop):
                return
            batch = [first]
            stopping = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Stop):
                    stopping = True
                    break
                batch.append(item)
            self._write_batch(batch)
            if stopping:
                return

    def _write_batch(self, batch: list[tuple[PendingWrite, Future[WriteOutcome]]]) -> None:
        try:
            outcomes = self._store(batch)
        except IntegrityError:
            # Another server process took one of the idempotency keys between
            # our check and our commit: fall back to one transaction each.
            outcomes = []
            for item in batch:
                try:
                    outcomes.extend(self._store([item]))
                except Exception as exc:
                    outcomes.append(exc)
        except Exception as exc:  # the database is down or full: fail the requests
            _log.error("storing %d contribution(s) failed: %s", len(batch), exc)
            outcomes = [exc] * len(batch)
        stored = [o.stored for o in outcomes if isinstance(o, WriteOutcome) and o.stored]
        if stored:
            try:
                self._on_commit(stored)
            except Exception:  # never leave a request hanging because the view failed
                _log.exception("updating the aggregated view failed")
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _store(
        self, batch: list[tuple[PendingWrite, Future[WriteOutcome]]]
    ) -> list[WriteOutcome | BaseException]:
        now = time.time()
        results: list[WriteOutcome | None] = []
        fresh: list[tuple[int, PendingWrite]] = []
        connection = self._engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with connection, connection.begin():
            known = self._known_keys(connection, [w for w, _ in batch])
            for write, _ in batch:
                key = write.idempotency_key
                if key is not None and key in known:
                    body_hash, response = known[key]
                    same = body_hash == write.body_hash
                    results.append(WriteOutcome(response, replayed=same, conflict=not same))
                    continue
                if key is not None:
                    known[key] = (write.body_hash, write.response)
                fresh.append((len(results), write))
                results.append(None)
            if fresh:
                stored = self._insert(connection, [w for _, w in fresh], now)
                for (index, write), row in zip(fresh, stored, strict=True):
                    results[index] = WriteOutcome(write.response, stored=row)
        return [r for r in results if r is not None]

    @staticmethod
    def _known_keys(
        connection: Connection, writes: list[PendingWrite]
    ) -> dict[str, tuple[str, str]]:
        keys = [w.idempotency_key for w in writes if w.idempotency_key is not None]
        if not keys:
            return {}
        rows = connection.execute(
            select(
                idempotency_keys.c.key, idempotency_keys.c.body_hash, idempotency_keys.c.response
            ).where(idempotency_keys.c.key.in_(keys))
        ).all()
        return {row.key: (row.body_hash, row.response) for row in rows}

    @staticmethod
    def _insert(
        connection: Connection, writes: list[PendingWrite], now: float
    ) -> list[StoredContribution]:
        # One statement for the whole batch (compiled once and cached); the ids
        # come back in parameter order.
        rows = []
        records = []
        for write in writes:
            c = write.contribution
            settings: dict[str, Any] = dict(c.settings)
            workloads: dict[str, tuple[float, dict[str, Any]]] = {
                str(name): (w.savings, dict(w.settings)) for name, w in c.workloads.items()
            }
            rows.append(
                {
                    "received_at": now,
                    "qdframe_version": c.qdframe_version,
                    "system_type": c.system_type,
                    "install_token": c.install_token,
                    "suite": c.suite,
                    "savings": c.savings,
                    "energy_savings": c.energy_savings,
                    "quantum_advantage": c.quantum_advantage,
                    # The route accepts only contributions under an issued identity.
                    "verified": True,
                    "settings": json.dumps(settings, sort_keys=True),
                    "workloads": json.dumps(
                        {n: {"savings": v, "settings": st} for n, (v, st) in workloads.items()},
                        sort_keys=True,
                    ),
                }
            )
            records.append(
                Record(
                    token=c.install_token,
                    savings=c.savings,
                    quantum_advantage=c.quantum_advantage,
                    received_at=now,
                    settings=settings,
                    energy_savings=c.energy_savings,
                    workloads=workloads,
                )
            )
        ids = [int(i) for i in connection.execute(_INSERT_RETURNING_ID, rows).scalars()]
        if len(ids) != len(rows):
            raise RuntimeError("the database did not return an id for every contribution")
        keyed = [
            {
                "key": write.idempotency_key,
                "body_hash": write.body_hash,
                "contribution_id": row_id,
                "response": write.response,
                "created_at": now,
            }
            for write, row_id in zip(writes, ids, strict=True)
            if write.idempotency_key is not None
        ]
        if keyed:
            connection.execute(idempotency_keys.insert(), keyed)
        return [
            StoredContribution(
                id=row_id,
                qdframe_version=write.contribution.qdframe_version,
                system_type=write.contribution.system_type,
                record=record,
            )
            for write, row_id, record in zip(writes, ids, records, strict=True)
        ]


_INSERT_RETURNING_ID = contributions.insert().returning(
    contributions.c.id, sort_by_parameter_order=True
)
