"""The ``locality`` allocator: dual recursive bisection of qubits and network."""

from __future__ import annotations

import numpy as np
import pytest
from qdframe_allocators import GreedyAllocator, LocalityAllocator
from qdframe_allocators._node_tree import build_node_tree
from qdframe_allocators.auto import choose
from qdframe_topologies import build_all_to_all, build_custom, build_ring, build_torus

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import ebit_count
from qdframe.errors import ConfigError
from qdframe.families import random_pairs


def _ising(side: int, steps: int) -> GateArray:
    """Trotter steps of a 2D Ising model: RX on every spin, RZZ on every bond."""
    index = np.arange(side * side).reshape(side, side)
    bonds = np.concatenate(
        [
            np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1),
            np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1),
        ]
    )
    spins = np.arange(side * side)
    rows = np.concatenate([np.stack([spins, spins], axis=1), bonds] * steps)
    breaks = np.tile(
        np.r_[np.ones(len(spins), dtype=bool), np.zeros(len(bonds), dtype=bool)], steps
    )
    return GateArray.from_pairs(side * side, rows, breaks=breaks)


def _chain(n: int, steps: int) -> GateArray:
    """Nearest-neighbour gates along a line of qubits, in a shuffled numbering."""
    perm = np.random.default_rng(3).permutation(n)
    bonds = np.stack([perm[:-1], perm[1:]], axis=1)
    return GateArray.from_pairs(n, np.concatenate([bonds] * steps))


def test_two_dimensional_lattice_is_tiled_like_the_torus() -> None:
    # 16 x 16 spins on a 4 x 4 torus of 16-qubit nodes: the hand-made layout
    # puts each 4 x 4 tile of the lattice on the node at the same position.
    topology = build_torus(16, qubits_per_node=16)
    problem = AllocationProblem(_ising(16, 2), topology, time_budget_s=10)
    rows, cols = np.divmod(np.arange(256), 16)
    tiles = Allocation.static((rows // 4) * 4 + cols // 4)
    ideal = ebit_count(problem, tiles)
    ebits = ebit_count(problem, LocalityAllocator().allocate(problem, seed=0))
    greedy = ebit_count(problem, GreedyAllocator().allocate(problem, seed=0))
    assert ebits <= 1.4 * ideal
    assert ebits < 0.6 * greedy


def test_chain_is_cut_into_contiguous_blocks_around_the_ring() -> None:
    # Optimal: one block of 8 consecutive qubits per node, the blocks in ring
    # order, so each of the 7 block boundaries costs one ebit per step.
    topology = build_ring(8, qubits_per_node=8)
    problem = AllocationProblem(_chain(64, 3), topology, time_budget_s=10)
    ebits = ebit_count(problem, LocalityAllocator().allocate(problem, seed=1))
    assert ebits <= 2 * 7 * 3


def test_capacities_and_packing_with_spare_room() -> None:
    # 100 qubits need 7 of 64 nodes of 16: locality packs them onto 7.
    topology = build_torus(64, qubits_per_node=16)
    problem = AllocationProblem(random_pairs(100, 400, seed=2), topology, time_budget_s=5)
    allocation = LocalityAllocator().allocate(problem, seed=0)
    loads = allocation.loads(64)[0]
    assert (loads <= 16).all() and loads.sum() == 100
    assert np.count_nonzero(loads) == 7
    used = np.flatnonzero(loads)
    # The occupied nodes form a compact patch (a 2 x 4 block at most), where
    # the torus is 8 hops across.
    assert topology.distances()[np.ix_(used, used)].max() <= 4


def test_uneven_capacities_on_a_general_network() -> None:
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (1, 5), (5, 6), (6, 3)]
    caps = [3, 0, 7, 2, 5, 4, 1]
    topology = build_custom(7, qubits_per_node=0, node_qubits=caps, edges=edges)
    problem = AllocationProblem(random_pairs(22, 120, seed=4), topology, time_budget_s=5)
    allocation = LocalityAllocator().allocate(problem, seed=0)
    allocation.check(problem)
    assert (allocation.loads(7)[0] == caps).all()  # 22 qubits fill all 22 places


def test_same_seed_same_allocation() -> None:
    problem = AllocationProblem(
        random_pairs(512, 3000, seed=5), build_torus(32, qubits_per_node=16), time_budget_s=5
    )
    first = LocalityAllocator().allocate(problem, seed=7).assignment
    second = LocalityAllocator().allocate(problem, seed=7).assignment
    assert (first == second).all()


def test_unknown_option_is_refused() -> None:
    with pytest.raises(ConfigError, match="passes"):
        LocalityAllocator(rounds=3)


def test_node_tree_halves_have_equal_capacity_and_siblings_are_neighbours() -> None:
    topology = build_torus(64, qubits_per_node=4)
    tree = build_node_tree(topology)
    assert tree.depth == 6
    for level in range(1, tree.depth + 1):
        caps = tree.capacity[level]
        assert (caps[0::2] + caps[1::2] == tree.capacity[level - 1]).all()
        assert caps.sum() == 256
    # Leaves that share a parent are adjacent; regions of 4 nodes are 2 x 2 squares.
    leaf = tree.region[-1]
    node_of = {int(r): n for n, r in enumerate(leaf)}
    dist = topology.distances()
    assert all(dist[node_of[2 * g], node_of[2 * g + 1]] == 1 for g in range(32))
    squares = tree.region[tree.depth - 2]
    for g in np.unique(squares):
        members = np.flatnonzero(squares == g)
        assert dist[np.ix_(members, members)].max() == 2


def test_auto_chooses_locality_at_scale_on_sparse_networks_only() -> None:
    gates = random_pairs(8192, 1000, seed=0)
    sparse = AllocationProblem(gates, build_torus(128, qubits_per_node=64), time_budget_s=5)
    name, options, why = choose(sparse)
    assert (name, options) == ("locality", {})
    assert "8192 qubits" in why and "torus" in why
    dense = AllocationProblem(gates, build_all_to_all(128, qubits_per_node=64), time_budget_s=5)
    assert choose(dense)[0] == "greedy"
    small = AllocationProblem(
        random_pairs(512, 1000, seed=0), build_torus(32, qubits_per_node=16), time_budget_s=5
    )
    assert choose(small)[0] == "topology_aware"


def test_auto_runs_locality_and_says_so() -> None:
    from qdframe_allocators import AutoAllocator

    topology = build_torus(128, qubits_per_node=64)
    problem = AllocationProblem(random_pairs(8192, 2000, seed=1), topology, time_budget_s=5)
    allocation = AutoAllocator().allocate(problem, seed=0)
    assert allocation.allocator == "locality"
    assert allocation.notes["reason"].startswith("locality:")
    greedy = GreedyAllocator().allocate(problem, seed=0)
    assert ebit_count(problem, allocation) < ebit_count(problem, greedy)
