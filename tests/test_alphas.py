"""madnis_plugin.alphas: MadGraph's running alpha_s and LHAPDF's alpha_s calculators.

Independent checks: the renormalisation-group equation integrated numerically
with scipy (two loops), the one-loop closed form, continuity at the flavour
thresholds, and the run-card rules MadGraph applies (nn23lo1 imposes 0.130,
lhapdf takes the set's alpha_s, lepton beams take the param card's).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from madnis_plugin.alphas import (MADGRAPH_BMASS, MADGRAPH_CMASS, MADGRAPH_ZMASS, AnalyticAlphaS,
                                  IpolAlphaS, MadGraphAlphaSGrid, ODEAlphaS, RunningAlphaS,
                                  alpha_s_for_run, lhapdf_alphas_from_info, madgraph_alphas)
from madnis_plugin.pdf import DEFAULT_PDF_SET, mkPDF


def rge_solution(alpha_ref: float, q_ref: float, q: float, thresholds: list[float],
                 nloop: int = 2) -> float:
    """alpha_s(q) from the n-loop beta function, integrated in ln Q^2, continuous at thresholds."""
    cuts = sorted(m for m in thresholds if min(q_ref, q) < m < max(q_ref, q))
    points = [q_ref] + (cuts if q > q_ref else cuts[::-1]) + [q]
    a = alpha_ref
    for start, end in zip(points[:-1], points[1:]):
        nf = 3 + sum(math.sqrt(start * end) > m for m in thresholds)
        b0 = (33 - 2 * nf) / (12 * math.pi)
        b1 = (153 - 19 * nf) / (24 * math.pi**2) if nloop > 1 else 0.0
        a = solve_ivp(lambda t, y: [-(b0 * y[0] ** 2 + b1 * y[0] ** 3)],
                      (2 * math.log(start), 2 * math.log(end)), [a], method="DOP853",
                      rtol=1e-13, atol=1e-16).y[0, -1]
    return a


SCALES = np.array([0.8, 1.0, 1.3, 1.42, 2.0, 4.69, 4.7, 4.71, 10.0, 50.0, 91.188, 200.0, 1e3,
                   1e4, 1e5, 5e5])


# --- MadGraph's solver ---------------------------------------------------------

def test_madgraph_solver_returns_alpha_s_mz_exactly() -> None:
    for alpha_mz in (0.118, 0.130):
        assert RunningAlphaS.from_madgraph(alpha_mz, use_grid=False)(MADGRAPH_ZMASS) == alpha_mz


def test_madgraph_two_loop_solver_solves_the_rge() -> None:
    # NEWTON1 stops when its last correction is below 5e-4 relative; Newton's
    # quadratic convergence leaves < 1e-7 (6e-8 measured), so 1e-6 bounds it.
    got = madgraph_alphas(SCALES, 0.130, nloop=2)
    expected = [rge_solution(0.130, MADGRAPH_ZMASS, q, [MADGRAPH_CMASS, MADGRAPH_BMASS])
                for q in SCALES]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_madgraph_one_loop_is_the_closed_form() -> None:
    # One loop: 1/alpha(Q) = 1/alpha(Q0) + b0 ln(Q^2/Q0^2), continuous at mb and mc.
    def closed(q: float) -> float:
        b = lambda nf: (33 - 2 * nf) / (12 * math.pi)  # noqa: E731
        inv = 1 / 0.118
        if q >= MADGRAPH_BMASS:
            return 1 / (inv + b(5) * math.log(q**2 / MADGRAPH_ZMASS**2))
        inv += b(5) * math.log(MADGRAPH_BMASS**2 / MADGRAPH_ZMASS**2)
        if q >= MADGRAPH_CMASS:
            return 1 / (inv + b(4) * math.log(q**2 / MADGRAPH_BMASS**2))
        inv += b(4) * math.log(MADGRAPH_CMASS**2 / MADGRAPH_BMASS**2)
        return 1 / (inv + b(3) * math.log(q**2 / MADGRAPH_CMASS**2))

    got = madgraph_alphas(SCALES, 0.118, nloop=1)
    # MadGraph's b0 values are 15-digit DATA constants: 1e-12 relative.
    np.testing.assert_allclose(got, [closed(q) for q in SCALES], rtol=1e-12)


@pytest.mark.parametrize("threshold", [MADGRAPH_CMASS, MADGRAPH_BMASS])
def test_madgraph_running_is_continuous_at_thresholds(threshold: float) -> None:
    below, above = madgraph_alphas(np.array([threshold * (1 - 1e-10), threshold]), 0.130)
    assert above == pytest.approx(below, rel=1e-8)


def test_madgraph_tables_follow_the_solver() -> None:
    # madevent interpolates 256-knot tables linearly in log Q. The error is
    # h^2/8 * alpha''/alpha with h = ln(1e5/4.7)/255 = 0.039 above mb, about 4e-5
    # there (5e-5 measured just above mb), so 1e-4 bounds it (MadGraph's own
    # commented-out check uses 1e-4 too).
    q = np.logspace(0, 5, 2001)[:-1]
    grid = MadGraphAlphaSGrid(0.130)
    np.testing.assert_allclose(grid(q), madgraph_alphas(q, 0.130), rtol=1e-4)
    knots = np.exp(np.linspace(math.log(MADGRAPH_BMASS), math.log(1e5), 256))[:-1]
    np.testing.assert_allclose(grid(knots), madgraph_alphas(knots, 0.130), rtol=1e-12)


def test_madgraph_tables_hand_outside_scales_to_the_solver() -> None:
    grid = MadGraphAlphaSGrid(0.118)
    q = np.array([2e5, 1e6])
    np.testing.assert_array_equal(grid(q), madgraph_alphas(q, 0.118))


def test_non_positive_scale_is_refused() -> None:
    with pytest.raises(ValueError):
        RunningAlphaS.from_madgraph(0.118)(np.array([10.0, 0.0]))


def test_running_alpha_s_keeps_shapes_and_scalars() -> None:
    alpha = RunningAlphaS.from_madgraph(0.118)
    assert type(alpha(91.188)) is float
    assert alpha(np.full((3, 2), 50.0)).shape == (3, 2)


# --- the run-card rules ------------------------------------------------------

def test_nn23lo1_imposes_0130_whatever_the_param_card() -> None:
    alpha = alpha_s_for_run("nn23lo1", param_alpha_s=0.118)
    assert alpha.alpha_s_mz == 0.130
    q = np.array([20.0, 91.188, 500.0])
    np.testing.assert_array_equal(alpha(q), MadGraphAlphaSGrid(0.130, nloop=2)(q))


def test_lepton_beams_run_the_param_card_value_at_two_loops() -> None:
    alpha = alpha_s_for_run("none", param_alpha_s=0.1184)
    q = np.array([10.0, 91.188, 1000.0])
    np.testing.assert_array_equal(alpha(q), MadGraphAlphaSGrid(0.1184, nloop=2)(q))
    with pytest.raises(ValueError):
        alpha_s_for_run("none")


def test_lhapdf_label_takes_the_sets_alpha_s() -> None:
    pdf = mkPDF(DEFAULT_PDF_SET, backend="native")
    alpha = alpha_s_for_run("lhapdf", pdf=pdf, param_alpha_s=0.118)
    q = np.array([5.0, 91.1876, 300.0])
    np.testing.assert_array_equal(alpha(q), pdf.alphasQ(q))
    assert alpha.alpha_s_mz == pytest.approx(0.130, rel=1e-6)
    with pytest.raises(ValueError):
        alpha_s_for_run("lhapdf")


def test_unsupported_pdlabel_is_refused() -> None:
    with pytest.raises(ValueError, match="cteq6l1"):
        alpha_s_for_run("cteq6l1", param_alpha_s=0.118)


# --- LHAPDF's calculators -------------------------------------------------------

def test_analytic_one_loop_is_the_lambda_formula() -> None:
    # alpha = 1 / (b0 ln(Q^2 / Lambda_nf^2)) with LHAPDF's b0 = (33 - 2 nf) / (12 pi)
    lambdas = {3: 0.146, 4: 0.121, 5: 0.0878}
    a = AnalyticAlphaS(lambdas, order_qcd=1, quark_masses={1: 0, 2: 0, 3: 0, 4: 1.51, 5: 4.92, 6: 172.5})
    for q, nf in ((1.2, 3), (3.0, 4), (50.0, 5)):
        expected = 1 / ((33 - 2 * nf) / (12 * math.pi) * math.log(q * q / lambdas[nf] ** 2))
        assert float(a.alphasQ(q)) == pytest.approx(expected, rel=1e-8)  # LHAPDF rounds b0 to 1e-9


def test_ipol_reproduces_its_knots_and_is_constant_above() -> None:
    qs = [1.0, 2.0, 5.0, 5.0, 10.0, 100.0]
    vals = [0.40, 0.30, 0.21, 0.20, 0.17, 0.12]
    a = IpolAlphaS(qs, vals)
    np.testing.assert_allclose(a.alphasQ(np.array([1.0, 2.0, 10.0, 100.0])), [0.40, 0.30, 0.17, 0.12],
                               rtol=1e-14)
    assert float(a.alphasQ(5.0)) == pytest.approx(0.20)     # the upper subgrid owns the threshold
    assert float(a.alphasQ(1e4)) == 0.12
    # below the first knot: the power law through the first two knots
    assert float(a.alphasQ(0.5)) == pytest.approx(0.40 * (0.25) ** (math.log10(0.75) / math.log10(4)))


def test_ode_matches_an_independent_rge_solution() -> None:
    # LHAPDF's ODE alpha_s is a tabulated solution; between the b and t thresholds
    # the table's cubic interpolation is good to ~2e-6, so 1e-5 bounds it.
    a = ODEAlphaS(order_qcd=2, alpha_s_mz=0.118, mz=91.1876,
                  quark_masses={1: 0, 2: 0, 3: 0, 4: 1.4, 5: 4.75, 6: 175.0})
    assert float(a.alphasQ(91.1876)) == pytest.approx(0.118, rel=1e-7)
    q = np.linspace(6.0, 170.0, 30)
    expected = [rge_solution(0.118, 91.1876, v, [1.4, 4.75, 175.0]) for v in q]
    np.testing.assert_allclose(a.alphasQ(q), expected, rtol=1e-5)


def test_info_without_masses_is_refused() -> None:
    with pytest.raises(ValueError):
        lhapdf_alphas_from_info({"AlphaS_Type": "analytic", "AlphaS_Lambda5": 0.1})
    with pytest.raises(ValueError):
        lhapdf_alphas_from_info({"AlphaS_Type": "nonsense", "MUp": 0, "MDown": 0, "MStrange": 0,
                                 "MCharm": 1.3, "MBottom": 4.7, "MTop": 173})
