"""The aggregated view, kept in memory and recomputed only where data changed.

Reads never touch the database: the writer adds each committed contribution
here, the system types it touched are marked dirty, and the next read
recomputes just those. When several server processes share one database, a
refresher pulls rows the others wrote (see :meth:`AggregatedView.pull`).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine

from qdframe.network.aggregation import Record, aggregate_system, robust_center
from qdframe.network.schemas import SystemOptimization
from qdframe.network.server.storage import (
    StoredContribution,
    contributions_by_id,
    count_rows,
    ids_above,
)

__all__ = ["AggregatedView", "SystemSummary"]


@dataclass(frozen=True)
class SystemSummary:
    """One system type as the dashboard shows it, published or not yet."""

    system_type: str
    contributions: int
    contributors: int
    median_savings: float | None
    published: SystemOptimization | None


class AggregatedView:
    """Contributions grouped by ``(qdframe_version, system_type)`` and their aggregates.

    :param min_contributors: installations needed before a system is published.
    """

    def __init__(self, min_contributors: int, *, commit_lag_s: float = 10.0) -> None:
        self.min_contributors = min_contributors
        self._commit_lag_s = commit_lag_s
        self._checkpoints: deque[tuple[float, int]] = deque()
        self._lock = threading.RLock()
        self._records: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self._tokens: dict[str, set[str]] = defaultdict(set)
        self._published: dict[tuple[str, str], SystemOptimization | None] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._seen: set[int] = set()
        self._floor = 0  # every id at or below it has been seen
        self._total = 0
        self.generation = 0

    # ------------------------------------------------------------ writes
    def add(self, rows: Iterable[StoredContribution]) -> None:
        """Add committed contributions (rows already present are ignored)."""
        with self._lock:
            changed = False
            for row in rows:
                if row.id in self._seen or row.id <= self._floor:
                    continue
                self._seen.add(row.id)
                self._total += 1
                if not row.verified:
                    continue  # stored before identities were issued: never counted
                group = (row.qdframe_version, row.system_type)
                self._records[group].append(row.record)
                self._tokens[row.qdframe_version].add(row.record.token)
                self._dirty.add(group)
                changed = True
            if changed:
                self.generation += 1

    def pull(self, engine: Engine) -> bool:
        """Fetch contributions other processes committed; ``True`` when any were new.

        Cheap when nothing changed (one ``count(*)``). Otherwise only the ids
        above the floor are listed and the unseen rows fetched, all outside
        the lock so that the writer is never held up. On PostgreSQL ids may
        commit out of order, so the floor only moves to an id that was
        complete ``commit_lag_s`` ago.
        """
        count, highest = count_rows(engine)
        with self._lock:
            if count == self._total:
                self._compact(highest)
                return False
            floor = self._floor
            seen = set(self._seen)
        missing = [i for i in ids_above(engine, floor) if i not in seen]
        before = self.generation
        if missing:
            self.add(contributions_by_id(engine, missing))
        with self._lock:
            if count == self._total:
                self._compact(highest)
        return self.generation != before

    def _compact(self, highest: int) -> None:
        # Contributions are never deleted, so equal counts mean every id then
        # visible is known. A transaction that took an id earlier may still be
        # committing, so the floor trails by a lag no transaction lasts.
        now = time.monotonic()
        self._checkpoints.append((now, highest))
        floor = self._floor
        while self._checkpoints and self._checkpoints[0][0] <= now - self._commit_lag_s:
            floor = max(floor, self._checkpoints.popleft()[1])
        if floor != self._floor:
            self._floor = floor
            self._seen = {i for i in self._seen if i > floor}

    # ------------------------------------------------------------ reads
    @property
    def contribution_count(self) -> int:
        with self._lock:
            return self._total

    def total_contributors(self, version: str) -> int:
        with self._lock:
            return len(self._tokens.get(version, ()))

    def unverified_count(self) -> int:
        """Stored contributions that count for nothing (made before identities)."""
        with self._lock:
            return self._total - sum(len(r) for r in self._records.values())

    def published(self, version: str) -> list[SystemOptimization]:
        """Every published system of ``version``, sorted by system type."""
        with self._lock:
            self._recompute()
            found = [
                agg
                for (v, _), agg in sorted(self._published.items())
                if v == version and agg is not None
            ]
        return found

    def system(self, version: str, system_type: str) -> SystemOptimization | None:
        with self._lock:
            self._recompute()
            return self._published.get((version, system_type))

    def pending_count(self, version: str, system_type: str) -> int:
        """Contributors so far for a system that may not be published yet."""
        with self._lock:
            return len({r.token for r in self._records.get((version, system_type), ())})

    def summaries(self, version: str) -> list[SystemSummary]:
        """All system types of ``version`` (for the dashboard)."""
        with self._lock:
            self._recompute()
            out = []
            for (v, system_type), records in sorted(self._records.items()):
                if v != version:
                    continue
                stat = robust_center((r.token, r.savings) for r in records)
                out.append(
                    SystemSummary(
                        system_type=system_type,
                        contributions=len(records),
                        contributors=len({r.token for r in records}),
                        median_savings=None if stat is None else stat.value,
                        published=self._published.get((v, system_type)),
                    )
                )
            return out

    def contributor_medians(self, version: str) -> list[float]:
        """Per-contributor median savings, over all system types (for the chart)."""
        with self._lock:
            per: dict[tuple[str, str], list[float]] = defaultdict(list)
            for (v, system_type), records in self._records.items():
                if v != version:
                    continue
                for r in records:
                    per[(system_type, r.token)].append(r.savings)
        medians = []
        for values in per.values():
            ordered = sorted(values)
            mid = len(ordered) // 2
            medians.append(
                ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            )
        return medians

    def versions(self) -> list[str]:
        with self._lock:
            return sorted({v for v, _ in self._records})

    def _recompute(self) -> None:
        for group in self._dirty:
            version, system_type = group
            self._published[group] = aggregate_system(
                system_type,
                version,
                self._records[group],
                min_contributors=self.min_contributors,
            )
        self._dirty.clear()
