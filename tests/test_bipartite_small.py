"""The plain-Python König covers agree exactly with the scipy route."""

from __future__ import annotations

import numpy as np
import pytest

from qdframe._bipartite import small_covers
from qdframe.cost import _scipy_covers


def _random_graph(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int, int]:
    n_left = int(rng.integers(1, 30))
    n_right = int(rng.integers(1, 30))
    density = rng.uniform(0.02, 0.6)
    dense = rng.random((n_left, n_right)) < density
    # Every vertex has an edge, as in the burst graph.
    dense[np.arange(n_left), rng.integers(0, n_right, n_left)] = True
    dense[rng.integers(0, n_left, n_right), np.arange(n_right)] = True
    left, right = np.nonzero(dense)
    return left.astype(np.int64), right.astype(np.int64), n_left, n_right


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", range(40))
def test_small_covers_match_scipy(seed: int) -> None:
    left, right, n_left, n_right = _random_graph(np.random.default_rng(seed))
    mine = small_covers(left, right, n_left, n_right)
    theirs = _scipy_covers(left, right, n_left, n_right)
    for got, want in zip(mine[:4], theirs[:4], strict=True):
        np.testing.assert_array_equal(got, want)
    assert _same_partition(mine[4], theirs[4])
    assert int(mine[4].max()) + 1 == theirs[5]


@pytest.mark.parametrize("seed", range(10))
def test_small_covers_are_minimum_vertex_covers(seed: int) -> None:
    left, right, n_left, n_right = _random_graph(np.random.default_rng(100 + seed))
    cover_l1, cover_r1, cover_l2, cover_r2, _ = small_covers(left, right, n_left, n_right)
    for cl, cr in ((cover_l1, cover_r1), (cover_l2, cover_r2)):
        assert (cl[left] | cr[right]).all()  # every edge covered
    # Both covers have the size of a maximum matching (found here by brute force
    # over the other cover: two minimum covers have equal size).
    assert cover_l1.sum() + cover_r1.sum() == cover_l2.sum() + cover_r2.sum()
    # A cover one smaller would contradict König: check against networkx.
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n_left))
    graph.add_nodes_from(range(n_left, n_left + n_right))
    graph.add_edges_from(zip(left.tolist(), (right + n_left).tolist(), strict=True))
    matching = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=range(n_left))
    assert cover_l1.sum() + cover_r1.sum() == len(matching) // 2


def test_a_graph_with_one_cover_side_is_kept() -> None:
    # A star: one left vertex joined to five right ones; the cover is the centre.
    left = np.zeros(5, dtype=np.int64)
    right = np.arange(5, dtype=np.int64)
    cover_l1, cover_r1, cover_l2, cover_r2, component = small_covers(left, right, 1, 5)
    assert cover_l1.tolist() == [True] and not cover_r1.any()
    assert cover_l2.tolist() == [True] and not cover_r2.any()
    assert component.tolist() == [0] * 6
