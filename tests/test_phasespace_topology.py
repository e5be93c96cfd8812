"""Reading diagrams into topologies, and folding channels equal up to identical particles."""

from __future__ import annotations

import pytest

from madnis_plugin.phasespace import fold_equivalent_channels, parse_diagram


def prop(ident, kind, daughters, pdg):
    return {"id": ident, "type": kind, "daughters": daughters, "pdg": pdg}


def test_t_chain_reads_the_same_with_or_without_its_closing_entry():
    closed = parse_diagram([prop(-1, "t", [1, 3], 21), prop(-2, "t", [-1, 4], 0)], n_external=4)
    open_ = parse_diagram([prop(-1, "t", [1, 3], 21)], n_external=4)
    joined = parse_diagram([prop(-1, "t", [1, 3], 21), prop(-2, "t", [-1, 4], 0), prop(-3, "t", [-2, 2], 0)], 4)
    assert closed == open_ == joined
    assert [b.legs for b in closed.blocks] == [(3,), (4,)] and closed.t_pdgs == (21,)


def test_s_channel_blocks_are_ordered_along_the_t_chain():
    topo = parse_diagram(
        [prop(-1, "s", [4, 5], 23), prop(-2, "t", [1, -1], 11), prop(-3, "t", [-2, 3], 0)], n_external=5
    )
    assert [b.legs for b in topo.blocks] == [(4, 5), (3,)]
    assert topo.blocks[0].pdg == 23 and topo.t_pdgs == (11,) and topo.t_from == 1


def test_chain_may_start_from_leg_two():
    topo = parse_diagram([prop(-1, "t", [2, 4], 21), prop(-2, "t", [-1, 3], 0)], n_external=4)
    assert topo.t_from == 2 and [b.legs for b in topo.blocks] == [(4,), (3,)]


def test_pure_s_channel_diagram_is_one_block_holding_the_final_state():
    topo = parse_diagram([prop(-1, "s", [4, 5], 23), prop(-2, "s", [3, -1], 22)], n_external=5)
    assert not topo.has_t_channel and topo.blocks[0].legs == (3, 4, 5) and topo.blocks[0].pdg == 22


@pytest.mark.parametrize(
    "bad",
    [
        [prop(-1, "s", [3, 3], 23)],
        [prop(-1, "s", [3, -2], 23)],
        [prop(-1, "t", [1, 3], 21), prop(-2, "t", [-7, 4], 0)],
        [prop(-1, "s", [3, 1], 23)],
    ],
)
def test_malformed_diagrams_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_diagram(bad, n_external=4)


def t_or_u(leg: int) -> dict:
    other = 7 - leg
    return {"propagators": [prop(-1, "t", [1, leg], 11), prop(-2, "t", [-1, other], 0)]}


def test_t_and_u_channels_of_identical_photons_fold_into_one():
    assert fold_equivalent_channels([t_or_u(3), t_or_u(4)], [11, -11, 22, 22]) == [(0, 2, [0, 1])]


def test_t_and_u_channels_of_different_particles_stay_apart():
    # e+ e- > mu+ mu- like leg content: legs 3 and 4 differ, so t and u are different channels.
    assert fold_equivalent_channels([t_or_u(3), t_or_u(4)], [11, -11, 13, -13]) == [(0, 1, [0]), (1, 1, [1])]


def test_permuted_decay_chains_of_identical_particles_fold_and_four_point_diagrams_are_skipped():
    # u u~ > g g g: the s-channel gluon splitting into (3,4), (3,5) or (4,5) are one class.
    def split(a, b, c):
        return {"propagators": [prop(-1, "s", [a, b], 21), prop(-2, "t", [1, c], 2), prop(-3, "t", [-2, -1], 0)]}

    diagrams = [split(3, 4, 5), split(3, 5, 4), {"four_point": True, "propagators": []}, split(4, 5, 3),
                {"propagators": [prop(-1, "s", [3, 4], 22), prop(-2, "t", [1, 5], 2), prop(-3, "t", [-2, -1], 0)]}]
    assert fold_equivalent_channels(diagrams, [2, -2, 21, 21, 21]) == [(0, 3, [0, 1, 3]), (4, 1, [4])]


def test_identical_particle_permutations_are_uniform_and_leave_other_legs_alone():
    import numpy as np

    from madnis_plugin.phasespace import identical_particle_permutations

    pdgs = [21, 21, 21, 6, 21, -6, 21]
    perm = identical_particle_permutations(pdgs, 60_000, np.random.default_rng(0))
    assert np.all(perm[:, [0, 1, 3, 5]] == [0, 1, 3, 5])
    assert np.all(np.sort(perm[:, [2, 4, 6]], axis=1) == [2, 4, 6])
    # Each of the 3! orders should appear with frequency 1/6; 5 sigma of a binomial at n = 60000.
    codes = perm[:, 2] * 100 + perm[:, 4] * 10 + perm[:, 6]
    _, counts = np.unique(codes, return_counts=True)
    sigma = np.sqrt(60_000 * (1 / 6) * (5 / 6))
    assert len(counts) == 6 and np.all(np.abs(counts - 10_000) < 5 * sigma)


def test_s_channel_propagators_list_the_resonances_of_a_channel():
    import numpy as np

    from madnis_plugin.phasespace import build_channel

    diagram = [prop(-1, "s", [4, 5], 24), prop(-2, "s", [3, -1], 6), prop(-3, "t", [1, -2], 6), prop(-4, "t", [-3, 6], 0)]
    cmap = build_channel(diagram, np.zeros(6), lambda pdg: (0.0, 0.0), e_cm=1000.0)
    assert cmap.s_channel_propagators() == [(6, (3, 4, 5)), (24, (4, 5))]
