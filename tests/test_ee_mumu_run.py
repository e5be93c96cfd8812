"""End to end on e+ e- -> mu+ mu-: cross section against the analytic Born result, LHE round trip."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pylhe
import pytest

from madnis_plugin import generate, integrate, load_process
from madnis_plugin.cards import read_run_card
from madnis_plugin.resources import default_card

GEV2_TO_PB = 0.38937966e9


def analytic_born_cross_section(param_card, sqrt_s: float) -> float:
    """sigma(e+ e- -> mu+ mu-) through photon and Z, massless fermions, tree-level EW inputs.

    With helicity couplings g_L = e (T3 - Q sw2)/(sw cw), g_R = -e Q sw2/(sw cw) and
    A_ij = e^2 Q^2 / s + g_i g_j / (s - MZ^2 + i MZ GZ), the Born cross section is
    sigma = s sum_ij |A_ij|^2 / (48 pi) (the angular integral of (1 +- cos)^2 is 8/3).
    """
    alpha = 1.0 / param_card.value("SMINPUTS", 1)
    gf = param_card.value("SMINPUTS", 2)
    mz = param_card.mass(23)
    wz = param_card.width(23)
    mw = math.sqrt(mz**2 / 2 + math.sqrt(mz**4 / 4 - math.pi * alpha * mz**2 / (math.sqrt(2) * gf)))
    sw2 = 1 - mw**2 / mz**2
    e2 = 4 * math.pi * alpha
    e = math.sqrt(e2)
    swcw = math.sqrt(sw2 * (1 - sw2))
    charge, t3 = -1.0, -0.5
    g = {"L": e * (t3 - charge * sw2) / swcw, "R": -e * charge * sw2 / swcw}
    s = sqrt_s**2
    propagator = 1.0 / complex(s - mz**2, mz * wz)
    total = sum(abs(e2 * charge * charge / s + g[i] * g[j] * propagator) ** 2 for i in "LR" for j in "LR")
    return s * total / (48 * math.pi) * GEV2_TO_PB


@pytest.fixture(scope="module")
def default_run():
    return integrate("ee_mumu", seed=11, points=200_000, train_batches=100)   # the default (neural) sampler


def test_cross_section_matches_analytic_born_result(default_run):
    card = read_run_card(default_card("run_card.dat"))
    sqrt_s = 2 * math.sqrt(card["ebeam1"] * card["ebeam2"])
    expected = analytic_born_cross_section(load_process("ee_mumu").param_card, sqrt_s)
    sigma, error = default_run["cross_section_pb"], default_run["error_pb"]
    assert error > 0
    # Statistical agreement, and an absolute 0.3% bound (the run's error is far below it).
    assert abs(sigma - expected) < 3 * error
    assert abs(sigma - expected) < 3e-3 * expected


def test_integration_reports_the_documented_fields(default_run):
    for key in ("process", "cross_section_pb", "error_pb", "integrator", "n_integrand_calls", "rel_std",
                "unweighting_efficiency", "wall_s"):
        assert key in default_run
    assert default_run["process"] == "ee_mumu"
    assert default_run["n_integrand_calls"] >= 200_000
    assert 0 < default_run["unweighting_efficiency"] <= 1


@pytest.fixture(scope="module")
def lhe_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lhe") / "ee_mumu.lhe.gz"
    summary = generate("ee_mumu", 300, path, seed=5, points=50_000, train_batches=100)
    return path, summary


def test_lhe_round_trip_with_pylhe(lhe_file):
    path, summary = lhe_file
    assert summary["events_written"] == 300
    lhe = pylhe.LHEFile.fromfile(str(path))
    init = lhe.init
    assert (init.initInfo.beamA, init.initInfo.beamB) == (-11, 11)
    assert init.initInfo.energyA == pytest.approx(500.0) and init.initInfo.energyB == pytest.approx(500.0)
    assert init.initInfo.weightingStrategy == -4
    assert sum(p.xSection for p in init.procInfo) == pytest.approx(summary["cross_section_pb"], rel=1e-6)
    events = list(lhe.events)
    assert len(events) == 300
    for event in events:
        ids = [p.id for p in event.particles if p.status != 2]
        assert ids == [-11, 11, -13, 13]
        # event_norm = average: every weight is the cross section (times w/w_max for a kept overweight).
        assert event.eventinfo.weight >= summary["cross_section_pb"] * (1 - 1e-9)
        p = np.array([[q.e, q.px, q.py, q.pz] for q in event.particles if q.status != 2])
        balance = p[0] + p[1] - p[2] - p[3]
        assert np.allclose(balance, 0, atol=1e-6)
        assert event.eventinfo.scale > 0 and event.eventinfo.aqed > 0


def test_lhe_header_carries_the_cards(lhe_file):
    path, _ = lhe_file
    text = gzip.open(path, "rt").read()
    assert "<MGRunCard>" in text and "ebeam1" in text
    assert "<slha>" in text and "BLOCK" in text.upper()
    assert "madnis-plugin" in text


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a.lhe.gz", tmp_path / "b.lhe.gz"
    generate("ee_mumu", 50, a, seed=21, points=20_000, train_batches=30)
    generate("ee_mumu", 50, b, seed=21, points=20_000, train_batches=30)
    assert a.read_bytes() == b.read_bytes()
