"""The MadGraph5_aMC@NLO output adapter on hand-written fixtures in MadGraph's layout.

The fixtures (tests/fixtures/mg5_*_ee_mumu) are our own Fortran with the entry
points of MadGraph output: SMATRIX(P, ANS) per P* folder, SETPARA and
UPDATE_AS_PARAM in Source/MODEL, COMMON/STRONG/ G, AMP2 in COMMON/TO_AMPS/ with
configs.inc/props.inc (madevent), SMATRIXHEL in all_matrix.f (--prefix=int).
P1 is e+ e- > mu+ mu- (photon and Z), P2 is u u~ > d d~ and c c~ > s s~
through a gluon. Expected values are MadGraph's own numbers
(shared/reference/me) and textbook formulas.

Tolerances: the fixture's Fortran evaluates closed-form helicity squares in
double precision, so it meets MadGraph's values and the formulas to ~1e-14;
1e-12 (1e-10 against the reference files, as for every process) leaves room
for rounding and none for a wrong coupling, averaging factor or momentum
layout.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

if shutil.which(os.environ.get("FC", "gfortran").split()[0]) is None:
    pytest.skip("gfortran is not installed: MadGraph output cannot be compiled", allow_module_level=True)

from madnis_plugin import load_process  # noqa: E402
from madnis_plugin.bridge import UmamiLibrary  # noqa: E402
from madnis_plugin.cards import read_param_card  # noqa: E402
from madnis_plugin.madgraph import (  # noqa: E402
    MadGraphError,
    detect_layout,
    load_madgraph_folder,
    parse_configs,
    read_output,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STANDALONE = FIXTURES / "mg5_standalone_ee_mumu"
MADEVENT = FIXTURES / "mg5_madevent_ee_mumu"
PREFIX = FIXTURES / "mg5_standalone_prefix_ee_mumu"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "me" / "me_ee_mumu.json"
UUX_DDX = (2, -2, 1, -1)
CCX_SSX = (4, -4, 3, -3)


def _minkowski_square(p: np.ndarray) -> np.ndarray:
    return p[..., 0] ** 2 - (p[..., 1:] ** 2).sum(-1)


def _reference_points() -> tuple[np.ndarray, np.ndarray]:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} not found")
    data = json.loads(REFERENCE.read_text())
    return (np.array([p["momenta"] for p in data["points"]]), np.array([p["me2"] for p in data["points"]]))


def _qqbar_to_qprime_qprimebar(p: np.ndarray, alpha_s) -> np.ndarray:
    """Textbook q q~ -> q' q~' through a gluon: (4/9) g^4 (t^2 + u^2) / s^2."""
    s = _minkowski_square(p[:, 0] + p[:, 1])
    t = _minkowski_square(p[:, 0] - p[:, 2])
    u = _minkowski_square(p[:, 0] - p[:, 3])
    g2 = 4 * math.pi * np.asarray(alpha_s)
    return 4 / 9 * g2**2 * (t**2 + u**2) / s**2


@pytest.fixture(scope="module")
def standalone():
    with pytest.warns(UserWarning, match="no channel topologies"):
        return load_process(STANDALONE)


@pytest.fixture(scope="module")
def madevent():
    return load_process(MADEVENT)


def test_layouts_are_detected_from_the_folder_contents():
    assert detect_layout(STANDALONE) == "standalone"
    assert detect_layout(MADEVENT) == "madevent"
    assert detect_layout(PREFIX) == "prefix"


def test_folder_without_subprocesses_is_rejected(tmp_path):
    with pytest.raises(MadGraphError, match="SubProcesses"):
        detect_layout(tmp_path)


def test_subprocesses_come_from_the_process_lines_of_every_p_folder():
    output = read_output(STANDALONE)
    assert [f.path.name for f in output.subfolders] == ["P1_epem_mupmum", "P2_uux_ddx"]
    assert [f.processes for f in output.subfolders] == [
        [((-11, 11, -13, 13), 1)], [(UUX_DDX, 2), (CCX_SSX, 2)]]


def test_standalone_metadata_has_no_topologies_and_flags_it():
    library, meta = load_madgraph_folder(STANDALONE)
    assert library.is_file()
    assert meta["has_topologies"] is False
    assert all(group["diagrams"] == [] for group in meta["groups"])
    assert [s["flavor_index"] for g in meta["groups"] for s in g["subprocesses"]] == [0, 1, 2]


def test_standalone_output_reproduces_madgraph_reference_values(standalone):
    momenta, expected = _reference_points()
    np.testing.assert_allclose(standalone.matrix_element(momenta), expected, rtol=1e-10, atol=0)


@pytest.mark.parametrize("pdgs", [UUX_DDX, CCX_SSX])
def test_second_p_folder_in_the_same_library_is_selected_by_flavor(standalone, pdgs):
    momenta, _ = _reference_points()
    got = standalone.matrix_element(momenta, pdgs=pdgs)
    np.testing.assert_allclose(got, _qqbar_to_qprime_qprimebar(momenta, 0.118), rtol=1e-12)


def test_per_event_alpha_s_sets_the_strong_coupling_and_refreshes_couplings(standalone):
    momenta, _ = _reference_points()
    alpha_s = np.linspace(0.09, 0.2, len(momenta))
    got = standalone.matrix_element(momenta, pdgs=UUX_DDX, alpha_s=alpha_s)
    np.testing.assert_allclose(got, _qqbar_to_qprime_qprimebar(momenta, alpha_s), rtol=1e-12)
    # Without ALPHA_S the param card's aS is back in force.
    again = standalone.matrix_element(momenta, pdgs=UUX_DDX)
    np.testing.assert_allclose(again, _qqbar_to_qprime_qprimebar(momenta, 0.118), rtol=1e-12)


def test_param_card_values_reach_the_fortran(tmp_path):
    card = tmp_path / "param_card.dat"
    text = (STANDALONE / "Cards" / "param_card.dat").read_text()
    card.write_text(text.replace("3 1.180000e-01 # as", "3 1.300000e-01 # as"))
    assert read_param_card(card).value("sminputs", 3) == 0.13
    with pytest.warns(UserWarning):
        process = load_process(STANDALONE, param_card=card)
    momenta, _ = _reference_points()
    got = process.matrix_element(momenta, pdgs=UUX_DDX)
    np.testing.assert_allclose(got, _qqbar_to_qprime_qprimebar(momenta, 0.13), rtol=1e-12)


def test_madevent_diagrams_come_from_configs_inc(madevent):
    (group,) = madevent.metadata.groups
    assert madevent.metadata.raw["has_topologies"] is True
    assert [d.number for d in group.diagrams] == [1, 2]
    assert [[(p.id, p.type, p.daughters, p.pdg) for p in d.propagators] for d in group.diagrams] == [
        [(-1, "s", (4, 3), 22)], [(-1, "s", (4, 3), 23)]]
    raw = madevent.metadata.raw["groups"][0]["diagrams"][1]["propagators"][0]
    assert (raw["mass_parameter"], raw["width_parameter"]) == ("MDL_MZ", "MDL_WZ")


def test_t_channel_chain_of_configs_inc_is_read_in_both_spellings():
    # e+ e- > a a: electron exchange between legs 1-3 and the -1 line, leg 4
    # joining leg 2 (that last entry has neither SPROP nor TPRID).
    configs = """
      DATA MAPCONFIG(1)/1/
      DATA (IFOREST(I,-1,1),I=1,2)/1,3/
      DATA (SPROP(I,-1,1),I=1,1)/0/
      DATA TPRID(-1,1)/11/
      DATA (IFOREST(I,-2,1),I=1,2)/-1,4/
      DATA (SPROP(I,-2,1),I=1,1)/0/
      DATA (TPRID(I,-2,1),I=1,1)/0/
      DATA MAPCONFIG(0)/1/
"""
    (diagram,) = parse_configs(configs)
    assert diagram["propagators"] == [
        {"id": -1, "type": "t", "daughters": [1, 3], "pdg": 11},
        {"id": -2, "type": "t", "daughters": [-1, 4], "pdg": 0},
    ]


def test_madevent_amp2_is_normalised_and_weighs_photon_against_z(madevent):
    momenta, expected = _reference_points()
    result = madevent.evaluate(momenta)
    np.testing.assert_allclose(result.me2, expected, rtol=1e-10, atol=0)
    np.testing.assert_allclose(result.amp2.sum(axis=1), 1.0, rtol=1e-14)
    # Each diagram squared alone, summed over helicities: chiral couplings
    # e Q and e (T3 - Q sw^2)/(sw cw) with sw^2 = 1 - MW^2/MZ^2 at tree level.
    card = madevent.param_card
    mz, wz = card.mass(23), card.width(23)
    alpha = 1 / card.value("sminputs", 1)
    gf = card.value("sminputs", 2)
    mw = math.sqrt(mz**2 / 2 + math.sqrt(mz**4 / 4 - math.pi * alpha * mz**2 / (gf * math.sqrt(2))))
    sw2 = 1 - mw**2 / mz**2
    e2 = 4 * math.pi * alpha
    norm = e2 / (sw2 * (1 - sw2))
    g_left, g_right = (-0.5 + sw2) ** 2 * norm, sw2**2 * norm
    s = _minkowski_square(momenta[:, 0] + momenta[:, 1])
    t = _minkowski_square(momenta[:, 1] - momenta[:, 3])
    u = _minkowski_square(momenta[:, 1] - momenta[:, 2])
    photon = e2**2 / s**2 * 2 * (t**2 + u**2)
    z = ((g_left**2 + g_right**2) * u**2 + 2 * g_left * g_right * t**2) / ((s - mz**2) ** 2 + (mz * wz) ** 2)
    np.testing.assert_allclose(result.amp2[:, 0] / result.amp2[:, 1], photon / z, rtol=1e-12)


def test_prefix_form_dispatches_every_subprocess_through_smatrixhel():
    with pytest.warns(UserWarning, match="no channel topologies"):
        process = load_process(PREFIX)
    assert process.subprocesses == [(-11, 11, -13, 13), UUX_DDX, CCX_SSX]
    momenta, expected = _reference_points()
    np.testing.assert_allclose(process.matrix_element(momenta), expected, rtol=1e-10, atol=0)
    got = process.matrix_element(momenta, pdgs=CCX_SSX, alpha_s=0.2)
    np.testing.assert_allclose(got, _qqbar_to_qprime_qprimebar(momenta, 0.2), rtol=1e-12)


def test_loader_feeds_physical_points_to_the_helicity_filter(tmp_path, standalone):
    momenta, expected = _reference_points()
    # A private copy of the library has its own Fortran state (dlopen shares
    # one instance per file). Feed its filter collinear points first
    # (mu- along e-: t = 0 kills the opposite-chirality helicities).
    library_path, _ = load_madgraph_folder(STANDALONE)
    private = tmp_path / "libfresh.so"
    shutil.copy(library_path, private)
    fresh = UmamiLibrary(private, STANDALONE / "Cards" / "param_card.dat")
    collinear = np.array([[[500, 0, 0, 500], [500, 0, 0, -500], [500, 0, 0, 500], [500, 0, 0, -500]]], float)
    for _ in range(20):
        fresh.evaluate(collinear)
    spoiled = fresh.evaluate(momenta).me2
    assert np.max(np.abs(spoiled / expected - 1)) > 0.1, "collinear points should have spoiled the filter"
    # The loader warmed its instance up with RAMBO points before returning it.
    np.testing.assert_allclose(standalone.matrix_element(momenta), expected, rtol=1e-10, atol=0)


def test_library_is_cached_by_a_hash_of_the_sources(tmp_path):
    first, _ = load_madgraph_folder(STANDALONE)
    again, _ = load_madgraph_folder(STANDALONE)
    assert first == again
    copy = tmp_path / "edited"
    shutil.copytree(STANDALONE, copy)
    matrix = copy / "SubProcesses" / "P1_epem_mupmum" / "matrix.f"
    matrix.write_text(matrix.read_text() + "C     an edited comment\n")
    edited, _ = load_madgraph_folder(copy)
    assert edited != first and edited.is_file()


def test_zerowidth_tchannel_request_warns_that_the_output_keeps_its_widths():
    with pytest.warns(UserWarning, match="zerowidth_tchannel"):
        process = load_process(MADEVENT, zerowidth_tchannel=True)
    assert process.zerowidth_tchannel is False
