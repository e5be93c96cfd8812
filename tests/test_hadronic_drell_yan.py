"""p p -> e+ e- (Drell-Yan) through photon and Z against an independent integration.

The reference is written here from textbook formulas, sharing nothing with the
integrand but the PDF set and the param card:

* the partonic cross section of q q~ -> gamma/Z -> e+ e- at tree level with
  MadGraph's ``sm`` electroweak inputs (alpha = 1/aEWM1, Gf and MZ giving MW and
  sin^2(theta_W) at tree level, fixed Z width in the propagator), written with
  chiral couplings;
* its convolution with the parton luminosity: with no lepton cuts the
  dilepton-mass window is a window in s-hat, so
  sigma = sum_q int dM^2 / S  L_q(M^2 / S)  sigma_hat_q(M^2),
  L_q(tau) = int dy [f_q(sqrt(tau) e^y) f_q~(sqrt(tau) e^-y) + (q <-> q~)],
  integrated with ``scipy.integrate.quad`` around the Z pole (the Breit-Wigner
  convolution).

The Monte Carlo side is the full chain: run card (mass window, fixed scales, no
lepton pt/eta/Delta R cuts), :class:`~madnis_plugin.integrand.CollisionIntegrand`
with its multi-channel maps and PDF-weighted flavour sum, and VEGAS.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import integrate, special

from madnis_plugin.api import prepare_run
from madnis_plugin.cards import ParamCard
from madnis_plugin.integrand import GEV2_TO_PB
from madnis_plugin.pdf import mkPDF
from madnis_plugin.resources import default_card
from madnis_plugin.sampler import VegasSampler

MU_FIXED = 91.188
MASS_WINDOW = (60.0, 120.0)
#: u, c (up-type) and d, s (down-type): the four-flavour proton of MadGraph's ``p``.
QUARKS = {2: (2.0 / 3.0, 0.5), 4: (2.0 / 3.0, 0.5), 1: (-1.0 / 3.0, -0.5), 3: (-1.0 / 3.0, -0.5)}
ELECTRON = (-1.0, -0.5)
N_COLOURS = 3

RUN_OVERRIDES = {
    "fixed_ren_scale": True, "fixed_fac_scale": True,
    "scale": MU_FIXED, "dsqrt_q2fact1": MU_FIXED, "dsqrt_q2fact2": MU_FIXED,
    "ptl": 0.0, "etal": -1.0, "drll": 0.0,
    "mmll": MASS_WINDOW[0], "mmllmax": MASS_WINDOW[1],
}


def electroweak_inputs(card: ParamCard) -> dict[str, float]:
    """alpha, sin^2(theta_W), MZ, GammaZ as MadGraph's ``sm`` model derives them (tree level, Gmu scheme)."""
    alpha = 1.0 / card.value("SMINPUTS", 1)
    g_fermi = card.value("SMINPUTS", 2)
    mz = card.mass(23)
    mw = math.sqrt(mz**2 / 2 + math.sqrt(mz**4 / 4 - alpha * math.pi * mz**2 / (g_fermi * math.sqrt(2))))
    return {"alpha": alpha, "sw2": 1.0 - mw**2 / mz**2, "mz": mz, "wz": card.width(23)}


def sigma_hat_qqbar_to_ee(s_hat: float, quark: tuple[float, float], ew: dict[str, float]) -> float:
    """sigma(q q~ -> gamma/Z -> e+ e-) in GeV^-2, averaged over colours and helicities.

    Chiral amplitudes A_ij = Q_q Q_e + g_i^q g_j^e / (s_W^2 c_W^2) * s / (s - MZ^2 + i MZ GZ)
    with g_L = T3 - Q s_W^2, g_R = -Q s_W^2; sigma = pi alpha^2 / (3 s) / N_c * sum_ij |A_ij|^2
    (for e+ e- -> mu+ mu- via a photon alone this is the familiar 4 pi alpha^2 / (3 s)).
    """
    sw2 = ew["sw2"]
    cw2 = 1.0 - sw2
    propagator = s_hat / complex(s_hat - ew["mz"] ** 2, ew["mz"] * ew["wz"])

    def chiral(charge: float, t3: float) -> tuple[float, float]:
        return t3 - charge * sw2, -charge * sw2

    total = 0.0
    for g_q in chiral(*quark):
        for g_e in chiral(*ELECTRON):
            amplitude = quark[0] * ELECTRON[0] + g_q * g_e / (sw2 * cw2) * propagator
            total += abs(amplitude) ** 2
    return math.pi * ew["alpha"] ** 2 / (3.0 * s_hat) / N_COLOURS * total


@functools.lru_cache(maxsize=4)
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return special.roots_legendre(nodes)


def parton_luminosity(pdf, quark: int, tau: float, mu: float, nodes: int = 512) -> float:
    """L(tau) = int dy [f_q(x1) f_q~(x2) + f_q~(x1) f_q(x2)], x1,2 = sqrt(tau) e^(+-y).

    Gauss-Legendre in y with ``nodes`` points (vectorised PDF calls); the test
    of the reference checks that doubling ``nodes`` changes it by < 1e-6.
    """
    y_max = -0.5 * math.log(tau)
    t, w = _gauss_legendre(nodes)
    y = y_max * t
    x1, x2 = math.sqrt(tau) * np.exp(y), math.sqrt(tau) * np.exp(-y)
    mu = np.full_like(y, mu)

    def f(pid: int, x: np.ndarray) -> np.ndarray:
        return pdf.xfxQ(pid, x, mu) / x

    density = f(quark, x1) * f(-quark, x2) + f(-quark, x1) * f(quark, x2)
    return float(y_max * np.dot(w, density))


def reference_cross_section(card: ParamCard, sqrt_s: float, window: tuple[float, float], mu: float,
                            nodes: int = 512) -> float:
    """sigma(p p -> e+ e-, m_ee in window) in pb by one-dimensional quadrature over m_ee^2."""
    pdf = mkPDF("NNPDF23_lo_as_0130_qed", 0)
    ew = electroweak_inputs(card)
    s = sqrt_s**2

    def d_sigma_d_m2(m2: float) -> float:
        return sum(sigma_hat_qqbar_to_ee(m2, QUARKS[q], ew) * parton_luminosity(pdf, q, m2 / s, mu, nodes)
                   for q in QUARKS) / s

    value, _ = integrate.quad(d_sigma_d_m2, window[0] ** 2, window[1] ** 2, points=[ew["mz"] ** 2],
                              epsabs=0.0, epsrel=1e-8, limit=200)
    return value * GEV2_TO_PB


def monte_carlo_cross_section(training_points: int, points: int, seed: int) -> tuple[float, float, object]:
    """VEGAS estimate (pb) and its error with the run card's beams, the window and fixed scales."""
    setup = prepare_run("drell_yan", default_card("run_card_pp.dat"), overrides=RUN_OVERRIDES, seed=seed)
    sampler = VegasSampler(setup.integrand, bins=64, seed=seed)
    sampler.train(iterations=6, points_per_iteration=training_points)
    result = sampler.integrate(points=points)
    return result.cross_section, result.error, setup


@pytest.fixture(scope="module")
def reference() -> float:
    setup = prepare_run("drell_yan", default_card("run_card_pp.dat"), overrides=RUN_OVERRIDES, seed=1)
    return reference_cross_section(setup.process.param_card, setup.integrand.e_cm, MASS_WINDOW, MU_FIXED)


def test_partonic_formula_reduces_to_qed_far_below_the_z():
    """The reference formula itself: at sqrt(s_hat) = 1 GeV the Z is negligible (to ~1e-4)."""
    ew = {"alpha": 1 / 137.0, "sw2": 0.22, "mz": 91.188, "wz": 2.44}
    s_hat = 1.0
    qed = 4 * math.pi * ew["alpha"] ** 2 / (3 * s_hat) * (2 / 3) ** 2 / N_COLOURS
    assert sigma_hat_qqbar_to_ee(s_hat, QUARKS[2], ew) == pytest.approx(qed, rel=1e-3)


def test_reference_luminosity_is_converged_in_its_quadrature_nodes():
    """Doubling the Gauss-Legendre nodes moves L(tau) by less than 1e-6 (so the reference is exact at 1e-3)."""
    pdf = mkPDF("NNPDF23_lo_as_0130_qed", 0)
    tau = (MASS_WINDOW[0] / 13000.0) ** 2
    coarse, fine = (parton_luminosity(pdf, 1, tau, MU_FIXED, nodes) for nodes in (512, 1024))
    assert coarse == pytest.approx(fine, rel=1e-6)


def test_drell_yan_mass_window_matches_luminosity_convolution_fast(reference):
    """A short VEGAS run agrees with the quadrature within 1e-3 plus 4 standard errors."""
    sigma, error, _ = monte_carlo_cross_section(training_points=20_000, points=150_000, seed=11)
    assert error < 5e-3 * sigma  # the run is informative: a wrong flux factor or coupling shows
    assert abs(sigma - reference) <= 1e-3 * reference + 4 * error


@pytest.mark.slow
def test_drell_yan_mass_window_matches_luminosity_convolution_to_permille(reference):
    """Agreement to 1e-3 with a Monte Carlo error of at most 2.5e-4 (so 1e-3 is 4 sigma)."""
    sigma, error, _ = monte_carlo_cross_section(training_points=100_000, points=2_500_000, seed=12)
    assert error <= 2.5e-4 * sigma
    assert abs(sigma - reference) <= 1e-3 * reference
