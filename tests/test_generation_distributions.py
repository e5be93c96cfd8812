"""Unweighted events follow the weighted integrand: chi-square tests for every built-in process.

For each process a short run writes unweighted events and saves its sampler;
a fresh weighted sample of the same sampler estimates the differential cross
section. Per final-state leg the transverse momentum and rapidity, and the
invariant mass of every pair of final-state legs (which covers the
resonances' decay products), are histogrammed both ways and compared with a
two-sample chi-square that uses the Poisson variance of the event counts and
the sample variance of the weighted estimate. With many observables per
process the smallest p-value must pass a Bonferroni-corrected threshold.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pylhe
import pytest
from scipy import stats

from madnis_plugin import api, resources
from madnis_plugin.events.sampler_io import load_sampler

#: Family-wise false-alarm rate of one process's test.
ALPHA = 1e-3
N_BINS = 12
MIN_PER_BIN = 20
FAST = {"ee_mumu", "ttbar", "w_production"}

PROCESSES = sorted(p.parent.name for p in resources.processes_dir().glob("*/process.json")
                   if not p.parent.name.startswith("_"))


def _observables(p: np.ndarray) -> dict[str, np.ndarray]:
    """``p``: (n, n_final, 4) final-state momenta -> named per-event observables."""
    out = {}
    pt = np.hypot(p[..., 1], p[..., 2])
    for leg in range(p.shape[1]):
        out[f"pt{leg}"] = pt[:, leg]
        e, pz = p[:, leg, 0], p[:, leg, 3]
        out[f"y{leg}"] = 0.5 * np.log(np.maximum(e + pz, 1e-300) / np.maximum(e - pz, 1e-300))
    for a, b in itertools.combinations(range(p.shape[1]), 2):
        q = p[:, a] + p[:, b]
        out[f"m{a}{b}"] = np.sqrt(np.maximum(q[:, 0] ** 2 - (q[:, 1:] ** 2).sum(axis=1), 0.0))
    return out


def _chi2_pvalue(unweighted: np.ndarray, factors: np.ndarray, weighted: np.ndarray, w: np.ndarray) -> float:
    """Two-sample chi-square p-value: weighted events (estimate) vs unweighted events (counts)."""
    edges = np.quantile(weighted, np.linspace(0, 1, N_BINS + 1), method="inverted_cdf", weights=w)
    edges = np.unique(edges)
    edges[0], edges[-1] = -np.inf, np.inf
    counts = np.histogram(unweighted, edges, weights=factors)[0]
    counts_var = np.histogram(unweighted, edges, weights=factors**2)[0]
    h_w = np.histogram(weighted, edges, weights=w)[0]
    h_w2 = np.histogram(weighted, edges, weights=w**2)[0]
    n_u, s_w = factors.sum(), w.sum()
    p_u, p_w = counts / n_u, h_w / s_w
    var = counts_var / n_u**2 + h_w2 / s_w**2
    use = (counts >= MIN_PER_BIN) & (var > 0)
    chi2 = float((((p_u - p_w) ** 2)[use] / var[use]).sum())
    return float(stats.chi2.sf(chi2, max(int(use.sum()) - 1, 1)))


def _check(process: str, tmp_path: Path, n_events: int, weighted_points: int) -> None:
    out, sampler_file = tmp_path / f"{process}.lhe", tmp_path / f"{process}.sampler"
    result = api.generate(process, n_events, out, seed=7, train_batches=5, points=20000,
                          save_sampler=sampler_file)
    events = list(pylhe.LHEFile.fromfile(str(out)).events)
    p_u = np.array([[[q.e, q.px, q.py, q.pz] for q in e.particles if q.status == 1] for e in events])
    f_u = np.array([e.eventinfo.weight for e in events]) / result["cross_section_pb"]

    setup = api.prepare_run(process, seed=7)
    sampler = load_sampler(sampler_file, setup)
    sampler.rng = np.random.default_rng(12345)  # a stream independent of the generation's
    batch = sampler.sample(points=weighted_points)
    n_in = setup.process.n_incoming
    keep = batch.weight > 0
    # Each channel's points estimate that channel's share: weight / points of the channel.
    w = (batch.weight / batch.points_per_channel[batch.channel])[keep]
    p_w = batch.payload["momenta"][keep][:, n_in:]

    obs_u, obs_w = _observables(p_u), _observables(p_w)
    pvalues = {name: _chi2_pvalue(obs_u[name], f_u, obs_w[name], w) for name in obs_u}
    worst = min(pvalues, key=pvalues.get)
    assert pvalues[worst] > ALPHA / len(pvalues), json.dumps(pvalues)


@pytest.mark.parametrize("process", [p for p in PROCESSES if p in FAST])
def test_unweighted_histograms_match_the_weighted_integrand(process, tmp_path):
    _check(process, tmp_path, n_events=3000, weighted_points=30000)


@pytest.mark.slow
@pytest.mark.parametrize("process", [p for p in PROCESSES if p not in FAST])
def test_unweighted_histograms_match_the_weighted_integrand_slow(process, tmp_path):
    _check(process, tmp_path, n_events=5000, weighted_points=100000)


def test_chi_square_detects_a_sample_that_ignores_the_weights():
    # Weighted: x uniform with weight 2x (density 2x). A correct unweighted sample is sqrt(u);
    # a wrong one ignores the weights (uniform). The test must accept the first and reject the second.
    rng = np.random.default_rng(3)
    x_w = rng.random(30000)
    w = 2 * x_w / x_w.size
    right = np.sqrt(rng.random(3000))
    wrong = rng.random(3000)
    ones = np.ones(3000)
    assert _chi2_pvalue(right, ones, x_w, w) > ALPHA
    assert _chi2_pvalue(wrong, ones, x_w, w) < 1e-10
