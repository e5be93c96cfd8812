"""p p -> t t~ at a fixed scale against an independent numerical integration.

The reference is written here from textbook formulas:

* the closed-form LO partonic cross sections (Combridge 1979; Glueck, Owens,
  Reya 1978), with rho = 4 m_t^2 / s_hat and beta = sqrt(1 - rho):
  sigma(q q~ -> t t~) = 8 pi alpha_s^2 / (27 s_hat) beta (1 + rho / 2),
  sigma(g g -> t t~)  = pi alpha_s^2 / (3 s_hat) [(1 + rho + rho^2 / 16) ln((1 + beta) / (1 - beta))
                                                  - beta (7 / 4 + 31 rho / 16)];
  exact for the process as integrated, because the run card's
  ``zerowidth_tchannel = True`` drops the top width from the t-channel propagators;
* alpha_s(mu) as MadGraph computes it for ``pdlabel = nn23lo1``: alpha_s(MZ) =
  0.130 run at two loops with five flavours (no threshold lies between MZ and
  mu = 173 GeV), here by integrating the renormalisation-group equation with
  ``scipy.integrate.solve_ivp`` rather than MadGraph's closed-form inversion;
* the parton luminosities of u, c, d, s and the gluon from the shipped
  NNPDF23_lo_as_0130_qed set, integrated over rapidity by Gauss-Legendre and
  over tau with ``scipy.integrate.quad``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import integrate, special

from madnis_plugin.api import prepare_run
from madnis_plugin.integrand import GEV2_TO_PB
from madnis_plugin.pdf import mkPDF
from madnis_plugin.resources import default_card
from madnis_plugin.sampler import VegasSampler

MU_FIXED = 173.0
#: MadGraph's reference point for the nn23lo1 running (alfas_functions.f: zmass, asmz for nn23lo1).
MZ_MADGRAPH, ALPHA_S_MZ_NN23LO1 = 91.188, 0.130
LIGHT_QUARKS = (1, 2, 3, 4)

RUN_OVERRIDES = {
    "fixed_ren_scale": True, "fixed_fac_scale": True,
    "scale": MU_FIXED, "dsqrt_q2fact1": MU_FIXED, "dsqrt_q2fact2": MU_FIXED,
}


def alpha_s_two_loop(mu: float, alpha_s_ref: float = ALPHA_S_MZ_NN23LO1, mu_ref: float = MZ_MADGRAPH,
                     n_flavours: int = 5) -> float:
    """alpha_s(mu) from mu^2 d alpha_s / d mu^2 = -b0 alpha_s^2 / (4 pi) - b1 alpha_s^3 / (4 pi)^2."""
    b0 = 11.0 - 2.0 * n_flavours / 3.0
    b1 = 102.0 - 38.0 * n_flavours / 3.0

    def rge(_log_mu2: float, a: np.ndarray) -> np.ndarray:
        return -b0 * a**2 / (4 * math.pi) - b1 * a**3 / (4 * math.pi) ** 2

    solution = integrate.solve_ivp(rge, (0.0, 2.0 * math.log(mu / mu_ref)), [alpha_s_ref],
                                   rtol=1e-12, atol=1e-14)
    return float(solution.y[0, -1])


def sigma_hat_qqbar(s_hat: float, m_top: float, alpha_s: float) -> float:
    """sigma(q q~ -> t t~) in GeV^-2 (colour- and spin-averaged)."""
    rho = 4 * m_top**2 / s_hat
    beta = math.sqrt(max(1.0 - rho, 0.0))
    return 8 * math.pi * alpha_s**2 / (27 * s_hat) * beta * (1 + rho / 2)


def sigma_hat_gg(s_hat: float, m_top: float, alpha_s: float) -> float:
    """sigma(g g -> t t~) in GeV^-2 (colour- and spin-averaged)."""
    rho = 4 * m_top**2 / s_hat
    beta = math.sqrt(max(1.0 - rho, 0.0))
    if beta == 0.0:
        return 0.0
    return math.pi * alpha_s**2 / (3 * s_hat) * (
        (1 + rho + rho**2 / 16) * math.log((1 + beta) / (1 - beta)) - beta * (7 / 4 + 31 * rho / 16))


@functools.lru_cache(maxsize=4)
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return special.roots_legendre(nodes)


def luminosities(pdf, tau: float, mu: float, nodes: int = 512) -> tuple[float, float]:
    """(L_gg, L_qq~) at tau: int dy f_a(sqrt(tau) e^y) f_b(sqrt(tau) e^-y), q q~ summed over both orders."""
    y_max = -0.5 * math.log(tau)
    t, w = _gauss_legendre(nodes)
    y = y_max * t
    x1, x2 = math.sqrt(tau) * np.exp(y), math.sqrt(tau) * np.exp(-y)
    q = np.full_like(y, mu)

    def f(pid: int, x: np.ndarray) -> np.ndarray:
        return pdf.xfxQ(pid, x, q) / x

    gg = f(21, x1) * f(21, x2)
    qq = sum(f(k, x1) * f(-k, x2) + f(-k, x1) * f(k, x2) for k in LIGHT_QUARKS)
    return float(y_max * np.dot(w, gg)), float(y_max * np.dot(w, qq))


def reference_cross_section(sqrt_s: float, m_top: float, mu: float, nodes: int = 512) -> float:
    """sigma(p p -> t t~) in pb: quad over log tau of L_gg sigma_gg + L_qq~ sigma_qq~."""
    pdf = mkPDF("NNPDF23_lo_as_0130_qed", 0)
    alpha_s = alpha_s_two_loop(mu)
    s = sqrt_s**2
    tau_min = 4 * m_top**2 / s

    def d_sigma_d_log_tau(log_tau: float) -> float:
        tau = math.exp(log_tau)
        l_gg, l_qq = luminosities(pdf, tau, mu, nodes)
        return tau * (l_gg * sigma_hat_gg(tau * s, m_top, alpha_s) + l_qq * sigma_hat_qqbar(tau * s, m_top, alpha_s))

    value, _ = integrate.quad(d_sigma_d_log_tau, math.log(tau_min), 0.0, epsabs=0.0, epsrel=1e-8, limit=200)
    return value * GEV2_TO_PB


def monte_carlo_cross_section(training_points: int, points: int, seed: int) -> tuple[float, float]:
    setup = prepare_run("ttbar", default_card("run_card_pp.dat"), overrides=RUN_OVERRIDES, seed=seed)
    sampler = VegasSampler(setup.integrand, bins=64, seed=seed)
    sampler.train(iterations=6, points_per_iteration=training_points)
    result = sampler.integrate(points=points)
    return result.cross_section, result.error


@pytest.fixture(scope="module")
def reference() -> float:
    setup = prepare_run("ttbar", default_card("run_card_pp.dat"), overrides=RUN_OVERRIDES, seed=1)
    return reference_cross_section(setup.integrand.e_cm, setup.process.param_card.mass(6), MU_FIXED)


def test_reference_alpha_s_matches_madgraph_running_at_mz():
    """The ODE solution returns its input at MZ and decreases above it (asymptotic freedom)."""
    assert alpha_s_two_loop(MZ_MADGRAPH) == pytest.approx(ALPHA_S_MZ_NN23LO1, rel=1e-12)
    assert alpha_s_two_loop(MU_FIXED) < ALPHA_S_MZ_NN23LO1


def test_integrand_uses_madgraph_nn23lo1_alpha_s_at_the_fixed_scale():
    """Every live point carries alpha_s(173 GeV) of the two-loop nn23lo1 running.

    Tolerance 2e-5: MadGraph (and the integrand, to match it) interpolates alpha_s in a
    table of 256 knots linear in log Q, which differs from the exact running by ~1e-5.
    """
    setup = prepare_run("ttbar", default_card("run_card_pp.dat"), overrides=RUN_OVERRIDES, seed=3)
    batch = setup.integrand(0, np.random.default_rng(3).random((2000, setup.integrand.dim)))
    live = batch.value > 0
    assert live.any()
    np.testing.assert_allclose(batch.payload["alpha_s"][live], alpha_s_two_loop(MU_FIXED), rtol=2e-5)


def test_ttbar_matches_analytic_partonic_convolution_fast(reference):
    """A short VEGAS run agrees with the quadrature within 1e-3 plus 4 standard errors."""
    sigma, error = monte_carlo_cross_section(training_points=20_000, points=150_000, seed=21)
    assert error < 5e-3 * sigma
    assert abs(sigma - reference) <= 1e-3 * reference + 4 * error


@pytest.mark.slow
def test_ttbar_matches_analytic_partonic_convolution_to_permille(reference):
    """Agreement to 1e-3 with a Monte Carlo error of at most 2.5e-4 (so 1e-3 is 4 sigma)."""
    sigma, error = monte_carlo_cross_section(training_points=100_000, points=3_000_000, seed=22)
    assert error <= 2.5e-4 * sigma
    assert abs(sigma - reference) <= 1e-3 * reference
