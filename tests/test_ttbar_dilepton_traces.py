"""``ttbar_dilepton`` point by point against an independent Dirac-trace calculation.

The built-in process ``p p > t t~ > b e+ ve b~ mu- vm~`` (doubly resonant
diagrams only, massive b, widths in every massive propagator including the
t-channel top of g g -> t t~ unless ``zerowidth_tchannel``) is recomputed here
in numpy with explicit 4x4 Dirac matrices (Dirac representation,
gamma5 = i g0 g1 g2 g3, P_L = (1 - gamma5)/2); nothing of csrc/helas.c, the
generated C code or ufoamp is used.

Method.  With t = p_b + p_e+ + p_ve and tbar = p_bbar + p_mu- + p_vm~ the
amplitude is

    M = (gw/sqrt2)^4 / (D_W(t - p_b) D_W(tbar - p_bbar)) * gs^2
        * ubar(b) gamma_a P_L S(t) X S(-tbar) gamma_b P_L v(bbar) * J_e^a J_mu^b,

S(p) = (pslash + mt) / (p^2 - mt^2 + i mt WT),  D_W(q) = q^2 - MW^2 + i MW WW,
J_e^a = ubar(ve) gamma^a P_L v(e+), J_mu^b = ubar(mu-) gamma^b P_L v(vm~).  The
q^mu q^nu / MW^2 part of the unitary-gauge W propagator vanishes against the
massless lepton currents.  Spin sums turn into traces:

    sum |M|^2 ~ L_e^{aa'} L_mu^{bb'} Tr[(bslash + mb) A_ab (bbarslash - mb) Abar_a'b'],
    L_e^{aa'}  = Tr[vslash gamma^a P_L e+slash gamma^a' P_L],
    L_mu^{bb'} = Tr[mu-slash gamma^b P_L vbarslash gamma^b' P_L],   Abar = g0 A^dagger g0.

Numerics: contracted as written, these tensors cancel by up to six digits at
some resonant points (the sum over 4^4 x 8^2 traces is ~5e6 times larger than
its result), which would eat the 1e-10 budget.  So the contraction is
reorganised without approximation: each massless V-A lepton tensor is rank one,
L^{aa'} = j^a j^a'* (j read off a column of the trace; checked in a test), and
the remaining production weights (colour matrix / light-quark tensor) are
contracted in their eigenbasis, which turns the sum into non-negative
spin-summed traces.  A test checks this against the plain contraction (1e-8);
compared with a long-double evaluation it is good to ~1e-13.

Production cores X:
  * q q~ -> g* -> t t~:  X = gamma_rho / s, contracted with the light-quark
    tensor Tr[qbarslash gamma^rho qslash gamma^rho']; colour sum 2, average
    1/9 (colour) * 1/4 (spin).  The vector coupling makes it symmetric in the
    beams, so u u~ and u~ u are the same function of the momenta.
  * g g -> t t~: explicit real transverse gluon polarisations (beams along +-z
    in the partonic c.m. frame), colour-ordered amplitudes
        A1 = T + c S,  A2 = U - c S   (colour structures T^a T^b, T^b T^a),
        T = eps1slash S_t(t - k1) eps2slash,  U = eps2slash S_t(t - k2) eps1slash,
        S = Vslash / s,  V = (eps1.eps2)(k1 - k2) + 2 (k2.eps1) eps2 - 2 (k1.eps2) eps1,
    colour matrix [[16/3, -2/3], [-2/3, 16/3]], average 1/4 * 1/64.  The
    relative sign c of the three-gluon term is a convention; it is fixed by
    requiring that the same machinery with stable on-shell tops reproduces the
    Ellis-Stirling-Webber closed form (eq. 10.12) -- its own test below, which
    also shows that the other sign fails.

Couplings: gs^2 = 4 pi aS (card), gw = e / sqrt(sw2) with MW, sw2 derived from
aEWM1, Gf, MZ (tests/test_matrix_elements.py::SM).  The points sit near the
top and W resonances (Breit-Wigner masses within a few widths), sqrt(s) in
500-1000 GeV, so the resonant structure and the spin correlations of the
decays are what is being compared.  Tolerance 1e-10 relative.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from test_matrix_elements import SM, _two_body_decays, load, minkowski, rambo

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-10
N_POINTS = 4

# ------------------------------------------------------------ Dirac algebra --

_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_SIGMA = [np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]]),
          np.array([[1, 0], [0, -1]], dtype=complex)]
GAMMA = np.array([np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)]
                 + [np.block([[_Z2, s], [-s, _Z2]]) for s in _SIGMA])  # gamma^mu, Dirac representation
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
GAMMA_LOW = np.einsum("mn,nij->mij", METRIC, GAMMA)  # gamma_mu
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
ONE = np.eye(4, dtype=complex)
P_L = (ONE - GAMMA5) / 2


def slash(p: np.ndarray) -> np.ndarray:
    """(..., 4) four-vectors (upper index) -> (..., 4, 4) p_mu gamma^mu."""
    return np.einsum("...m,mij->...ij", p, GAMMA_LOW.astype(complex))


def dirac_bar(a: np.ndarray) -> np.ndarray:
    """gamma0 A^dagger gamma0 on the last two axes."""
    return GAMMA[0] @ np.conj(np.swapaxes(a, -1, -2)) @ GAMMA[0]


def propagator(p: np.ndarray, mass: float, width: float) -> np.ndarray:
    """(pslash + m) / (p^2 - m^2 + i m w), shape (n, 4, 4)."""
    denominator = minkowski(p, p) - mass ** 2 + 1j * mass * width
    return (slash(p) + mass * ONE) / denominator[:, None, None]


def lepton_tensor(p_first: np.ndarray, p_second: np.ndarray) -> np.ndarray:
    """Tr[p1slash gamma^a P_L p2slash gamma^a' P_L], shape (n, 4, 4) in (a, a')."""
    left = np.einsum("nij,ajk,kl->nail", slash(p_first), GAMMA, P_L)
    right = np.einsum("nij,ajk,kl->nail", slash(p_second), GAMMA, P_L)
    return np.einsum("naij,nbji->nab", left, right)


def light_quark_tensor(p_antiquark: np.ndarray, p_quark: np.ndarray) -> np.ndarray:
    """Tr[qbarslash gamma^rho qslash gamma^rho'], shape (n, 4, 4)."""
    left = np.einsum("nij,ajk->naik", slash(p_antiquark), GAMMA)
    right = np.einsum("nij,ajk->naik", slash(p_quark), GAMMA)
    return np.einsum("naij,nbji->nab", left, right)


def weighted_spin_sum(end: np.ndarray, amps: np.ndarray, end_bar: np.ndarray,
                      weights: np.ndarray) -> np.ndarray:
    """sum_XY W_XY Tr[end A_X end_bar Abar_Y] for amps (n, X, 4, 4) and Hermitian W (n, X, X).

    Evaluated in the eigenbasis of W = sum_i lam_i u_i u_i^dagger: the sum becomes
    sum_i lam_i Tr[end B_i end_bar Bbar_i] with B_i = sum_X u_Xi A_X (Abar is antilinear),
    a sum of spin-summed |amplitude|^2 >= 0 instead of a contraction with large
    cancellations (condition numbers up to ~5e6 were seen at resonant points)."""
    lam, u = np.linalg.eigh(weights)
    effective = np.einsum("nxi,nxjk->nijk", u, amps)
    left = end[:, None] @ effective
    right = end_bar[:, None] @ dirac_bar(effective)
    return np.einsum("ni,nijk,nikj->n", lam, left, right)


def rank_one_current(tensor: np.ndarray) -> np.ndarray:
    """j with j^a j^a'* = L^{aa'} for a rank-one Hermitian (n, 4, 4) tensor (massless V-A
    lepton pair: only one helicity configuration contributes), up to a phase."""
    diagonal = np.einsum("naa->na", tensor).real
    column = np.argmax(diagonal, axis=1)
    rows = np.arange(len(tensor))
    return tensor[rows, :, column] / np.sqrt(diagonal[rows, column])[:, None]


# ------------------------------------------------------------- production --

GG_COLOUR = np.array([[16 / 3, -2 / 3], [-2 / 3, 16 / 3]])
THREE_GLUON_SIGN = 1.0  # c; fixed by test_self_check_gg_stable_tops_match_esw


def gluon_polarisations(n: int) -> np.ndarray:
    """Real transverse polarisations for beams along +-z: (n, 2, 4)."""
    eps = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    return np.broadcast_to(eps, (n, 2, 4))


def gg_cores(k1, k2, top, antitop, mt, width_t, sign):
    """Colour-ordered production cores X: (n, 8, 4, 4), index (lambda1, lambda2, flow)
    -> 4 * lambda1 + 2 * lambda2 + flow; top / antitop are the (off-shell) momenta."""
    n = len(k1)
    eps = gluon_polarisations(n)
    s = minkowski(k1 + k2, k1 + k2)
    st = propagator(top - k1, mt, width_t)
    su = propagator(top - k2, mt, width_t)
    cores = np.empty((n, 2, 2, 2, 4, 4), dtype=complex)
    for l1 in range(2):
        for l2 in range(2):
            e1, e2 = eps[:, l1], eps[:, l2]
            t_term = slash(e1) @ st @ slash(e2)
            u_term = slash(e2) @ su @ slash(e1)
            v = (minkowski(e1, e2)[:, None] * (k1 - k2) + 2 * minkowski(k2, e1)[:, None] * e2
                 - 2 * minkowski(k1, e2)[:, None] * e1)
            s_term = slash(v) / s[:, None, None]
            cores[:, l1, l2, 0] = t_term + sign * s_term
            cores[:, l1, l2, 1] = u_term - sign * s_term
    weights = np.kron(np.eye(4), GG_COLOUR) / 256.0  # spin-diagonal, colour matrix; average 1/4 * 1/64
    return cores.reshape(n, 8, 4, 4), np.broadcast_to(weights, (n, 8, 8))


def qq_cores(p_quark, p_antiquark):
    """Cores gamma_rho / s: (n, 4, 4, 4) and weights colour 2/9, spin 1/4 times the quark tensor."""
    n = len(p_quark)
    s = minkowski(p_quark + p_antiquark, p_quark + p_antiquark)
    cores = np.broadcast_to(GAMMA_LOW, (n, 4, 4, 4)) / s[:, None, None, None]
    weights = light_quark_tensor(p_antiquark, p_quark) * (2.0 / 9.0 / 4.0)
    return cores, weights


def production_cores(pdgs, p, top, antitop, mt, width_t, sign=THREE_GLUON_SIGN):
    if pdgs[0] == 21:
        return gg_cores(p[:, 0], p[:, 1], top, antitop, mt, width_t, sign)
    quark = 0 if pdgs[0] > 0 else 1
    return qq_cores(p[:, quark], p[:, 1 - quark])


# -------------------------------------------------------------- |M|^2 --

def stable_ttbar_me2(pdgs, p, mt, alpha_s, sign=THREE_GLUON_SIGN):
    """a b -> t t~ with on-shell stable tops, no width anywhere; p: (n, 4, 4)."""
    cores, weights = production_cores(pdgs, p, p[:, 2], p[:, 3], mt, 0.0, sign)
    summed = weighted_spin_sum(slash(p[:, 2]) + mt * ONE, cores, slash(p[:, 3]) - mt * ONE, weights)
    return (4 * math.pi * alpha_s) ** 2 * summed.real


def dilepton_me2(pdgs, p, sm: SM, mt, wt, mb, alpha_s, width_t=None, sign=THREE_GLUON_SIGN):
    """The full 2 -> 8 |M|^2, averaged and summed; width_t: t-channel top width (default wt)."""
    b, e_plus, nu_e, b_bar, mu, nu_mu_bar = (p[:, i] for i in range(2, 8))
    top, antitop = b + e_plus + nu_e, b_bar + mu + nu_mu_bar
    cores, weights = production_cores(pdgs, p, top, antitop, mt, wt if width_t is None else width_t, sign)
    # lepton tensors from traces, contracted as L^{aa'} = j^a j^a'* (rank one, checked below)
    j_e = rank_one_current(lepton_tensor(nu_e, e_plus))
    j_mu = rank_one_current(lepton_tensor(mu, nu_mu_bar))
    # A_x = jslash_e P_L S(t) X_x S(-tbar) jslash_mu P_L,  jslash = j^a gamma_a
    heavy = (propagator(top, mt, wt)[:, None] @ cores) @ propagator(-antitop, mt, wt)[:, None]
    amps = (slash(j_e) @ P_L)[:, None] @ heavy @ (slash(j_mu) @ P_L)[:, None]
    summed = weighted_spin_sum(slash(b) + mb * ONE, amps, slash(b_bar) - mb * ONE, weights)
    w_plus, w_minus = e_plus + nu_e, mu + nu_mu_bar
    d_w = [minkowski(w, w) - sm.MW ** 2 + 1j * sm.MW * sm.WW for w in (w_plus, w_minus)]
    couplings = (4 * math.pi * alpha_s) ** 2 * (sm.gw ** 2 / 2) ** 4 / (abs(d_w[0]) * abs(d_w[1])) ** 2
    return couplings * summed.real


# -------------------------------------------------------------- points --

def resonant_points(n, mt, wt, mw, ww, mb, rng):
    """(n, 8, 4) momenta in the partonic c.m. frame, beams along +-z, tops and Ws
    off shell by up to three widths, sqrt(s) in 500-1000 GeV."""
    sqrt_s = rng.uniform(500.0, 1000.0, n)
    m_top = mt + wt * rng.uniform(-3, 3, (2, n))
    m_w = mw + ww * rng.uniform(-3, 3, (2, n))
    zero = np.zeros(n)
    beams = np.stack([np.stack([sqrt_s / 2, zero, zero, sqrt_s / 2], -1),
                      np.stack([sqrt_s / 2, zero, zero, -sqrt_s / 2], -1)], axis=1)
    top, antitop = _two_body_decays(beams.sum(1), m_top[0], m_top[1], rng)
    b, w_plus = _two_body_decays(top, mb, m_w[0], rng)
    e_plus, nu = _two_body_decays(w_plus, 0.0, 0.0, rng)
    b_bar, w_minus = _two_body_decays(antitop, mb, m_w[1], rng)
    mu, nu_bar = _two_body_decays(w_minus, 0.0, 0.0, rng)
    return np.concatenate([beams, np.stack([b, e_plus, nu, b_bar, mu, nu_bar], axis=1)], axis=1)


# ---------------------------------------------------------------- fixtures --

DILEPTON_SUBPROCESSES = [tuple(sub["pdg"])
                         for group in json.loads((ROOT / "processes" / "ttbar_dilepton" / "process.json")
                                                 .read_text())["groups"]
                         for sub in group["subprocesses"]]
GG = (21, 21, 5, -11, 12, -5, 13, -14)


def _inputs(proc):
    sm = SM(proc)
    get = lambda name: proc.library.get_parameter(name).real  # noqa: E731 - card inputs only
    return sm, proc.param_card.mass(6), get("WT"), proc.param_card.mass(5), get("aS")


def _esw(pdgs, p, mt, alpha_s):
    """Ellis-Stirling-Webber eq. (10.12): averaged |M|^2 of a b -> t t~, stable tops."""
    g4 = (4 * math.pi * alpha_s) ** 2
    s = minkowski(p[:, 0] + p[:, 1], p[:, 0] + p[:, 1])
    tau1 = 2 * minkowski(p[:, 0], p[:, 2]) / s
    tau2 = 2 * minkowski(p[:, 1], p[:, 2]) / s
    rho = 4 * mt ** 2 / s
    if pdgs[0] == 21:
        return g4 * (1 / (6 * tau1 * tau2) - 3 / 8) * (tau1 ** 2 + tau2 ** 2 + rho - rho ** 2 / (4 * tau1 * tau2))
    return g4 * 4 / 9 * (tau1 ** 2 + tau2 ** 2 + rho / 2)


def _max_rel(a, b) -> float:
    return float(np.max(np.abs(a / b - 1)))


# ------------------------------------------------------- self-checks (method) --

def test_dirac_algebra_and_left_handed_projector() -> None:
    for mu in range(4):
        assert np.allclose(GAMMA5 @ GAMMA[mu] + GAMMA[mu] @ GAMMA5, 0, atol=1e-15)
        for nu in range(4):
            anti = GAMMA[mu] @ GAMMA[nu] + GAMMA[nu] @ GAMMA[mu]
            np.testing.assert_allclose(anti, 2 * METRIC[mu, nu] * ONE, atol=1e-15)
    np.testing.assert_allclose(GAMMA5 @ GAMMA5, ONE, atol=1e-15)
    np.testing.assert_allclose(P_L @ P_L, P_L, atol=1e-15)
    # P_L keeps negative helicity of a massless particle: u = (sqrt(E) chi, -sqrt(E) chi) in the
    # Dirac representation for spin antiparallel to +z momentum; it must be an eigenvector.
    chi = np.array([0.0, 1.0])
    u_minus = np.concatenate([chi, -chi])
    np.testing.assert_allclose(P_L @ u_minus, u_minus, atol=1e-15)
    np.testing.assert_allclose(slash(np.array([1.0, 0, 0, 1.0])) @ u_minus, 0, atol=1e-15)


def test_self_check_top_decay_trace_is_v_minus_a() -> None:
    # Tr[(b + mb) gamma_a P_L (t + mt) P_R gamma_a'] L_e^{aa'} = 16 (t.e+)(b.ve) for V-A;
    # the wrong chirality would give 16 (t.ve)(b.e+).
    rng = np.random.default_rng(5)
    mt, mb, mw = 173.0, 4.7, 80.4
    top = _two_body_decays(np.array([[900.0, 0, 0, 0]] * 6), mt, mt, rng)[0]
    b, w = _two_body_decays(top, mb, mw, rng)
    e_plus, nu = _two_body_decays(w, 0.0, 0.0, rng)
    vertex = np.einsum("aij,jk->aik", GAMMA_LOW, P_L)
    amps = np.broadcast_to(vertex, (6, 4, 4, 4))
    heavy = np.einsum("aij,njk->naik", vertex, slash(top) + mt * ONE)  # gamma_a P_L (t + mt)
    traces = np.einsum("nij,najk,nbki->nab", slash(b) + mb * ONE, heavy, dirac_bar(amps))
    l_e = lepton_tensor(nu, e_plus)
    summed = np.einsum("nab,nab->n", l_e, traces)
    np.testing.assert_allclose(summed.imag, 0.0, atol=1e-9 * np.abs(summed).max())
    expected = 16 * minkowski(top, e_plus) * minkowski(b, nu)
    np.testing.assert_allclose(summed.real, expected, rtol=TOLERANCE, atol=0.0)
    assert _max_rel(16 * minkowski(top, nu) * minkowski(b, e_plus), expected) > 1e-2
    # the lepton tensor is rank one, L^{aa'} = j^a j^a'*, as dilepton_me2 uses it
    j = rank_one_current(l_e)
    np.testing.assert_allclose(np.einsum("na,nb->nab", j, j.conj()), l_e, rtol=0, atol=1e-12 * np.abs(l_e).max())
    assert abs(np.einsum("na,ab,nb->n", j, METRIC, j)).max() < 1e-9 * np.abs(l_e).max()  # light-like


@pytest.mark.parametrize("pdgs", [GG, (2, -2, 5, -11, 12, -5, 13, -14)], ids=["g_g", "u_u~"])
def test_factorised_contraction_equals_direct_tensor_contraction(pdgs: tuple) -> None:
    # dilepton_me2 contracts in factorised form; the plain contraction
    # W_xy L_e^{aa'} L_mu^{bb'} Tr[(b + mb) A_xab (bbar - mb) Abar_ya'b'] must agree
    # (to 1e-8 only: this form cancels strongly, see weighted_spin_sum)
    proc = load("ttbar_dilepton")
    sm, mt, wt, mb, alpha_s = _inputs(proc)
    p = resonant_points(N_POINTS, mt, wt, sm.MW, sm.WW, mb, np.random.default_rng(34))
    n = len(p)
    b, e_plus, nu_e, b_bar, mu, nu_mu_bar = (p[:, i] for i in range(2, 8))
    top, antitop = b + e_plus + nu_e, b_bar + mu + nu_mu_bar
    cores, weights = production_cores(pdgs, p, top, antitop, mt, wt)
    k = cores.shape[1]
    heavy = (propagator(top, mt, wt)[:, None] @ cores) @ propagator(-antitop, mt, wt)[:, None]
    amps = np.einsum("aij,jk,nxkl,blm->nxabim", GAMMA_LOW, P_L, heavy, GAMMA_LOW @ P_L).reshape(n, k * 16, 4, 4)
    left = (slash(b) + mb * ONE)[:, None] @ amps
    right = (slash(b_bar) - mb * ONE)[:, None] @ dirac_bar(amps)
    traces = np.einsum("nxij,nyji->nxy", left, right).reshape(n, k, 4, 4, k, 4, 4)
    summed = np.einsum("nxy,nac,nbd,nxabycd->n", weights, lepton_tensor(nu_e, e_plus),
                       lepton_tensor(mu, nu_mu_bar), traces, optimize=True)
    d_w = [minkowski(w, w) - sm.MW ** 2 + 1j * sm.MW * sm.WW for w in (e_plus + nu_e, mu + nu_mu_bar)]
    direct = (4 * math.pi * alpha_s) ** 2 * (sm.gw ** 2 / 2) ** 4 / (abs(d_w[0]) * abs(d_w[1])) ** 2 * summed.real
    np.testing.assert_allclose(dilepton_me2(pdgs, p, sm, mt, wt, mb, alpha_s), direct, rtol=1e-8, atol=0.0)


def test_self_check_gg_stable_tops_match_esw() -> None:
    # fixes the sign c of the three-gluon term: c = THREE_GLUON_SIGN reproduces the closed form,
    # -c does not (so the check has teeth)
    p = rambo([173.0, 173.0], 750.0, 8, np.random.default_rng(21))
    pdgs = (21, 21, 6, -6)
    expected = _esw(pdgs, p, 173.0, 0.13)
    np.testing.assert_allclose(stable_ttbar_me2(pdgs, p, 173.0, 0.13), expected, rtol=TOLERANCE, atol=0.0)
    assert _max_rel(stable_ttbar_me2(pdgs, p, 173.0, 0.13, sign=-THREE_GLUON_SIGN), expected) > 1e-2


@pytest.mark.parametrize("pdgs", [(2, -2, 6, -6), (-2, 2, 6, -6)], ids=["u_u~", "u~_u"])
def test_self_check_qq_stable_tops_match_esw(pdgs: tuple) -> None:
    p = rambo([173.0, 173.0], 750.0, 8, np.random.default_rng(22))
    np.testing.assert_allclose(stable_ttbar_me2(pdgs, p, 173.0, 0.13), _esw(pdgs, p, 173.0, 0.13),
                               rtol=TOLERANCE, atol=0.0)


# ------------------------------------------------------------- the process --

@pytest.mark.parametrize("pdgs", DILEPTON_SUBPROCESSES, ids=lambda pdgs: f"{pdgs[0]}_{pdgs[1]}")
def test_ttbar_dilepton_matches_trace_calculation(pdgs: tuple) -> None:
    proc = load("ttbar_dilepton")
    sm, mt, wt, mb, alpha_s = _inputs(proc)
    p = resonant_points(N_POINTS, mt, wt, sm.MW, sm.WW, mb, np.random.default_rng(31))
    got = proc.matrix_element(p, pdgs=pdgs)
    np.testing.assert_allclose(got, dilepton_me2(pdgs, p, sm, mt, wt, mb, alpha_s), rtol=TOLERANCE, atol=0.0)
    # the points resolve the decay spin correlations: exchanging e+ and ve changes |M|^2
    swapped = p.copy()
    swapped[:, [3, 4]] = p[:, [4, 3]]
    assert _max_rel(dilepton_me2(pdgs, swapped, sm, mt, wt, mb, alpha_s), got) > 1e-2


def test_ttbar_dilepton_gg_tchannel_width_convention() -> None:
    # default: the t-channel top propagator keeps i mt WT; zerowidth_tchannel=True drops only that
    # one.  The two differ by ~1e-4 here, far above the tolerance, so the check tells them apart.
    sm, mt, wt, mb, alpha_s = _inputs(load("ttbar_dilepton"))
    p = resonant_points(N_POINTS, mt, wt, sm.MW, sm.WW, mb, np.random.default_rng(32))
    with_width = dilepton_me2(GG, p, sm, mt, wt, mb, alpha_s)
    without = dilepton_me2(GG, p, sm, mt, wt, mb, alpha_s, width_t=0.0)
    assert _max_rel(without, with_width) > 1e-6
    np.testing.assert_allclose(load("ttbar_dilepton").matrix_element(p, pdgs=GG), with_width,
                               rtol=TOLERANCE, atol=0.0)
    np.testing.assert_allclose(load("ttbar_dilepton", zerowidth_tchannel=True).matrix_element(p, pdgs=GG),
                               without, rtol=TOLERANCE, atol=0.0)


@pytest.mark.parametrize("pdgs", [GG, (1, -1, 5, -11, 12, -5, 13, -14)], ids=["g_g", "d_d~"])
def test_ttbar_dilepton_alpha_s_argument(pdgs: tuple) -> None:
    proc = load("ttbar_dilepton")
    sm, mt, wt, mb, _ = _inputs(proc)
    p = resonant_points(2, mt, wt, sm.MW, sm.WW, mb, np.random.default_rng(33))
    np.testing.assert_allclose(proc.matrix_element(p, pdgs=pdgs, alpha_s=0.1),
                               dilepton_me2(pdgs, p, sm, mt, wt, mb, 0.1), rtol=TOLERANCE, atol=0.0)
