"""The incremental net engine agrees with a from-scratch recount after any moves."""

from __future__ import annotations

import random

import pytest
from qdframe_allocators._nets import NetState


def _recount(state: NetState, e: int) -> int:
    root_node = state.part[state.root[e]]
    occupied = {state.part[u] for u, _ in state.members[e]}
    return state.w[e] * sum(state.D[root_node][p] for p in occupied)


@pytest.mark.parametrize("metric", ["all_to_all", "line"])
def test_costs_gains_and_rollbacks_stay_exact(metric: str) -> None:
    rng = random.Random(5)
    for _ in range(60):
        k = rng.randint(3, 6)
        nv = rng.randint(3, 12)
        part = [rng.randrange(k) for _ in range(nv)]
        roots, leaves = [], []
        for _ in range(rng.randint(1, 10)):
            r = rng.randrange(nv)
            roots.append(r)
            others = [u for u in range(nv) if u != r]
            leaves.append([rng.choice(others) for _ in range(rng.randint(1, 4))])
        if metric == "all_to_all":
            dist = [[int(a != b) for b in range(k)] for a in range(k)]
        else:
            dist = [[abs(a - b) for b in range(k)] for a in range(k)]
        state = NetState(part, roots, leaves, [rng.randint(1, 3) for _ in roots], dist)
        assert state.uniform == (metric == "all_to_all")
        for _ in range(25):
            v, y = rng.randrange(nv), rng.randrange(k)
            gains = state.gains(v)
            assert gains == [state.move_gain(v, node) for node in range(k)]
            before = state.total
            mark = state.checkpoint()
            assert state.move(v, y) == -gains[y]
            assert state.cost == [_recount(state, e) for e in range(len(roots))]
            choice = rng.random()
            if choice < 0.3:
                state.rollback_to(mark)
                assert state.total == before
            elif choice < 0.4:
                state.rollback()
            else:
                state.commit()
            assert state.cost == [_recount(state, e) for e in range(len(roots))]
            assert state.total == sum(state.cost)
