"""The run report: one HTML page and its PNG figures, written into a run folder.

The page shows what a user checks after a run: the cross section and how the
estimates converged, the training (loss and relative standard deviation of
the weights per step), each channel's share of the cross section before and
after channel dropping, the learned against the prior channel weights, the
distribution of the weights relative to their channel's ``w_max`` (overweights
marked), and standard observables of the written events. The VEGAS
integrator has no flow training, no learned channel weights and drops no
channels: the page says so where a figure would need them.

Figures are drawn with matplotlib's Agg backend into ``report/``; the page
refers to them by relative path, so the run folder can be moved or copied.

Example:
    >>> from madnis_plugin.report import write_report
    >>> page, channels = write_report(run_dir, run_info, sampler)   # doctest: +SKIP
    >>> page.name                                                    # doctest: +SKIP
    'report.html'
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["write_report", "event_observables", "REPORT_FILE", "FIGURE_DIR"]

REPORT_FILE = "report.html"
FIGURE_DIR = "report"
#: Events read from the LHE file for the observables (a leading part is a fair sample).
MAX_OBSERVABLE_EVENTS = 5000


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _history(sampler) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(vegas iterations, flow-training history)``; the latter is empty for VEGAS."""
    history = getattr(sampler, "history", None)
    if isinstance(history, list):
        return history, {}
    history = history or {}
    return list(history.get("vegas", [])), history


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------

def _figure_convergence(path: Path, vegas_history: Sequence[Mapping[str, Any]], result) -> bool:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if vegas_history:
        it = np.arange(1, len(vegas_history) + 1)
        sigma = np.array([h["cross_section"] for h in vegas_history])
        err = np.array([h["error"] for h in vegas_history])
        ax.errorbar(it, sigma, yerr=err, fmt="o", ms=4, label="VEGAS iteration (training points)")
    x_final = len(vegas_history) + 1.5
    ax.axhspan(result.cross_section - result.error, result.cross_section + result.error, color="C1", alpha=0.3)
    ax.axhline(result.cross_section, color="C1", label="report estimate (fresh points) $\\pm 1\\sigma$")
    ax.set_xlim(0.5, x_final)
    ax.set_xlabel("VEGAS iteration")
    ax.set_ylabel("cross section [pb]")
    ax.legend(fontsize="small")
    ax.set_title("Cross section and its convergence")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def _figure_training(path: Path, vegas_history, flow_history) -> bool:
    plt = _pyplot()
    fig, (ax_loss, ax_std) = plt.subplots(1, 2, figsize=(10, 3.8))
    loss = np.asarray(flow_history.get("loss", []), dtype=float)
    if loss.size:
        ax_loss.plot(np.arange(1, loss.size + 1), loss, lw=0.8)
        if np.all(loss[np.isfinite(loss)] > 0):
            ax_loss.set_yscale("log")
        ax_loss.set_xlabel("training step")
        ax_loss.set_ylabel("loss")
        ax_loss.set_title("Flow training loss")
    else:
        ax_loss.text(0.5, 0.5, "no flow training\n(VEGAS integrator)", ha="center", va="center",
                     transform=ax_loss.transAxes)
        ax_loss.set_axis_off()
    rel_std = np.asarray(flow_history.get("rel_std", []), dtype=float)
    if rel_std.size:
        steps = np.asarray(flow_history.get("online_steps", np.arange(rel_std.size)), dtype=float) + 1
        ax_std.plot(steps[: rel_std.size], rel_std, "o-", ms=3, lw=0.8, label="flow (online steps)")
        ax_std.set_xlabel("training step")
    elif vegas_history:
        ax_std.plot(np.arange(1, len(vegas_history) + 1), [h["rel_std"] for h in vegas_history], "o-", ms=3,
                    label="VEGAS iteration")
        ax_std.set_xlabel("VEGAS iteration")
    ax_std.set_ylabel(r"relative std $\sigma_w / \langle w \rangle$")
    ax_std.set_title("Relative standard deviation of the weights")
    if ax_std.lines:
        ax_std.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def _bar_labels(ax, names: Sequence[str]) -> None:
    ax.set_xticks(np.arange(len(names)))
    step = max(1, math.ceil(len(names) / 40))  # keep labels readable for many channels
    ax.set_xticklabels([n if i % step == 0 else "" for i, n in enumerate(names)], rotation=90, fontsize=7)


def _figure_channels(path: Path, names: Sequence[str], before: np.ndarray | None, after: np.ndarray,
                     active: np.ndarray) -> bool:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 0.18 * len(names) + 2), 4.0))
    x = np.arange(len(names))
    if before is not None:
        ax.bar(x - 0.2, before, width=0.4, label="before dropping (training estimate)")
        ax.bar(x + 0.2, after, width=0.4, label="after dropping (fresh points)")
    else:
        ax.bar(x, after, width=0.6, label="fresh points")
    for i in np.flatnonzero(~active):
        ax.annotate("dropped", (i, 0), rotation=90, fontsize=6, ha="center", va="bottom", color="C3")
    _bar_labels(ax, names)
    ax.set_ylabel("share of the cross section")
    ax.set_title("Per-channel contributions")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def _figure_channel_weights(path: Path, names: Sequence[str], shares: Mapping[str, Sequence[float]]) -> bool:
    prior, learned = np.asarray(shares.get("prior", [])), np.asarray(shares.get("learned", []))
    if prior.size != len(names) or learned.size != len(names):
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 0.18 * len(names) + 2), 4.0))
    x = np.arange(len(names))
    ax.bar(x - 0.2, prior, width=0.4, label=r"prior $\alpha_c$ (MadEvent)")
    ax.bar(x + 0.2, learned, width=0.4, label=r"learned $\alpha_c$")
    _bar_labels(ax, names)
    ax.set_ylabel("share of the integral")
    ax.set_title("Learned against prior channel weights")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def _figure_weights(path: Path, ratio: np.ndarray, sample_weight: np.ndarray) -> dict[str, float]:
    """Histogram of ``ratio = w / w_max`` ``(n,)`` (log bins); returns the sample's overweight numbers.

    ``sample_weight`` ``(n,)`` is each point's contribution to the cross-section estimate.
    """
    plt = _pyplot()
    positive = ratio > 0
    over = ratio > 1
    total = float(sample_weight.sum())
    stats = {
        "points": int(ratio.size),
        "zero_weight_share": float(1 - positive.mean()) if ratio.size else math.nan,
        "overweight_points": int(over.sum()),
        # The share of the cross section above w_max: sum of (w - w_max) over the overweights.
        "overweight_share": float((sample_weight[over] * (1 - 1 / ratio[over])).sum() / total) if total > 0 else 0.0,
    }
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if positive.any():
        lo = max(float(ratio[positive].min()), 1e-8)
        hi = max(1.05 * float(ratio.max()), 1.1)
        bins = np.logspace(math.log10(lo), math.log10(hi), 60)
        ax.hist(ratio[positive & ~over], bins=bins, color="C0", label="below $w_{max}$")
        if over.any():
            ax.hist(ratio[over], bins=bins, color="C3", label=f"overweights ({over.sum()} points)")
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.axvline(1.0, color="k", ls="--", label="$w_{max}$ of the channel")
    ax.set_xlabel(r"$w / w_{max,c}$")
    ax.set_ylabel("points")
    ax.set_title("Weight distribution (fresh points)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return stats


def event_observables(lhe_path: str | Path, max_events: int = MAX_OBSERVABLE_EVENTS) -> dict[str, np.ndarray]:
    """Standard observables of the first ``max_events`` events of an LHE file.

    Returns:
        ``pt`` and ``rapidity`` of every outgoing (status 1) particle, ``pt_leading``
        of the hardest one per event, ``m_final`` the invariant mass of all
        outgoing particles per event and ``m_resonance`` the masses of the
        intermediate resonances (status 2), each a 1-d float64 array.

    Example:
        >>> obs = event_observables("Events/run_01/unweighted_events.lhe.gz")   # doctest: +SKIP
        >>> sorted(obs)                                                          # doctest: +SKIP
        ['m_final', 'm_resonance', 'pt', 'pt_leading', 'rapidity']
    """
    import pylhe

    pt, rapidity, pt_leading, m_final, m_res = [], [], [], [], []
    lhe = pylhe.LHEFile.fromfile(str(lhe_path), with_attributes=False, generator=True)
    for i, event in enumerate(lhe.events):
        if i >= max_events:
            break
        total = np.zeros(4)
        lead = 0.0
        for p in event.particles:
            if int(p.status) == 2:
                m_res.append(float(p.m))
            if int(p.status) != 1:
                continue
            p_t = math.hypot(p.px, p.py)
            pt.append(p_t)
            lead = max(lead, p_t)
            if p.e > abs(p.pz):
                rapidity.append(0.5 * math.log((p.e + p.pz) / (p.e - p.pz)))
            total += (p.e, p.px, p.py, p.pz)
        pt_leading.append(lead)
        m_final.append(math.sqrt(max(total[0] ** 2 - total[1:] @ total[1:], 0.0)))
    return {key: np.asarray(values, dtype=np.float64) for key, values in
            (("pt", pt), ("rapidity", rapidity), ("pt_leading", pt_leading), ("m_final", m_final),
             ("m_resonance", m_res))}


def _figure_observables(path: Path, obs: Mapping[str, np.ndarray]) -> bool:
    panels = [("pt", r"$p_T$ of outgoing particles [GeV]"), ("pt_leading", r"leading $p_T$ [GeV]"),
              ("rapidity", "rapidity of outgoing particles"), ("m_final", "invariant mass of the final state [GeV]")]
    if obs.get("m_resonance", np.zeros(0)).size:
        panels.append(("m_resonance", "resonance mass (status 2) [GeV]"))
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.2))
    for ax, (key, label) in zip(np.atleast_1d(axes), panels):
        values = obs.get(key, np.zeros(0))
        if values.size:
            ax.hist(values, bins=40, histtype="step", density=True)
        else:
            ax.text(0.5, 0.5, "no entries", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(label, fontsize=8)
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.tick_params(labelsize=7)
    np.atleast_1d(axes)[0].set_ylabel("normalised")
    fig.suptitle(f"Observables of the unweighted events (first {obs.get('pt_leading', np.zeros(0)).size})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------

def _fmt(value: Any, spec: str = ".4g") -> str:
    if isinstance(value, float):
        return format(value, spec) if math.isfinite(value) else str(value)
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>\n" for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"


def _figure_block(name: str, caption: str) -> str:
    return (f'<figure><img src="{FIGURE_DIR}/{name}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>\n")


_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #bbb; padding: 2px 8px; text-align: right; }
th { background: #eee; }
figure { margin: 1em 0; }
img { max-width: 100%; }
.note { background: #fff6d5; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
"""


def write_report(run_dir: str | Path, run_info: Mapping[str, Any], sampler,
                 sample_points: int = 20_000) -> tuple[Path, list[dict[str, Any]]]:
    """Write ``report.html`` and ``report/*.png`` into ``run_dir``.

    Args:
        run_dir: the run folder (holds the events named in ``run_info["files"]``).
        run_info: the run's ``results.json`` content (:func:`madnis_plugin.runfolder.launch`).
        sampler: the trained sampler (VEGAS or neural). The report draws
            ``sample_points`` fresh points from it for its own estimate (the
            per-channel table, each channel's ``w_max``) and for the weight
            distribution, so it needs nothing from the generation but its file.

    Returns:
        The page's path and the report estimate's per-channel records (dicts
        of :class:`~madnis_plugin.sampler.ChannelResult`).
    """
    run_dir = Path(run_dir)
    figures = run_dir / FIGURE_DIR
    figures.mkdir(exist_ok=True)
    result = sampler.integrate(points=int(sample_points))
    vegas_history, flow_history = _history(sampler)
    is_flow = bool(flow_history.get("loss"))
    names = [c.name for c in result.channels]
    sigma_c = np.array([c.cross_section for c in result.channels])
    active = np.array([c.active for c in result.channels], dtype=bool)
    after = sigma_c / sigma_c.sum() if sigma_c.sum() > 0 else sigma_c
    drops = flow_history.get("drops", [])
    before = np.asarray(drops[0]["shares_before"]) if drops else None
    w_max = np.array([c.w_max for c in result.channels])

    sections: list[str] = []
    notes: list[str] = []
    if not is_flow:
        notes.append("This run used the VEGAS integrator: there is no flow training (no loss curve), "
                      "no learned channel weights and no channel dropping. The training figure shows the "
                      "VEGAS iterations instead.")
    if run_info.get("reused_from"):
        notes.append(f"The sampler was trained by {html.escape(str(run_info['reused_from']))} and reused "
                     "without training; the training figures show that training.")

    summary_rows = [
        ("process", run_info.get("process")), ("integrator", run_info.get("integrator")),
        ("seed", run_info.get("seed")),
        ("cross section [pb]", f"{run_info['cross_section_pb']:.6e} ± {run_info['error_pb']:.2e}"),
        ("events written", run_info.get("events")),
        ("unweighting efficiency (integration)", run_info.get("unweighting_efficiency")),
        ("unweighting efficiency (generation)", run_info.get("generation_efficiency")),
        ("overweight share of the cross section", run_info.get("overweight_fraction")),
        ("relative std of the weights (report sample)", result.rel_std),
        ("unweighted events per integrand call, end to end", run_info.get("events_per_call_end_to_end")),
        ("integrand calls", run_info.get("n_integrand_calls")),
    ]
    sections.append("<h2>Summary</h2>\n" + _table(("quantity", "value"), summary_rows))
    phase_rows = [(name, cost["n_calls"], cost["wall_s"]) for name, cost in run_info.get("phases", {}).items()]
    sections.append("<h2>Cost per phase</h2>\n" + _table(("phase", "integrand calls", "wall [s]"), phase_rows))

    _figure_convergence(figures / "cross_section.png", vegas_history, result)
    sections.append("<h2>Cross section</h2>\n" + _figure_block(
        "cross_section.png", "VEGAS iteration estimates (training points) and an estimate from "
        "the report's fresh points"))

    _figure_training(figures / "training.png", vegas_history, flow_history)
    sections.append("<h2>Training</h2>\n" + _figure_block(
        "training.png", "Loss per training step and relative standard deviation of the weights per step"))
    if flow_history:
        sections.append(f"<p>Skipped steps (non-finite loss): {flow_history.get('skipped_steps', 0)}; "
                        f"non-finite integrand values: {flow_history.get('n_nonfinite', 0)}.</p>\n")

    _figure_channels(figures / "channels.png", names, before, after, active)
    channel_caption = ("Share of each channel before the first dropping check and after training"
                       if before is not None else "Share of each channel after training (no dropping)")
    sections.append("<h2>Channels</h2>\n" + _figure_block("channels.png", channel_caption))
    if not is_flow:
        sections.append('<p class="note">VEGAS keeps every channel: no channels were dropped.</p>\n')
    elif drops:
        dropped = sorted({names[i] for d in drops for i in d.get("dropped", [])})
        sections.append(f"<p>Dropped channels: {html.escape(', '.join(dropped) or 'none')}.</p>\n")
    if _figure_channel_weights(figures / "channel_weights.png", names, flow_history.get("channel_weight_shares", {})):
        sections.append(_figure_block("channel_weights.png",
                                      "Share of the integral per channel with the prior and the learned weights"))
    else:
        sections.append('<p class="note">No learned channel weights in this run '
                        f"({'VEGAS integrator' if not is_flow else 'channel-weight learning off'}): "
                        "the prior (MadEvent) weights were used.</p>\n")
    channel_rows = [(c.name, c.cross_section, c.error, c.rel_std, c.unweighting_efficiency, c.w_max,
                     c.n_points, "yes" if c.active else "dropped") for c in result.channels]
    sections.append(f"<p>Per-channel estimate from {result.n_calls} fresh points drawn for this report "
                    "(the run's cross section is in the summary):</p>\n")
    sections.append(_table(("channel", "sigma [pb]", "error", "rel. std", "eff.", "w_max", "points", "active"),
                           channel_rows))

    # Channels in proportion to w_max, as event generation draws them. A channel
    # without points gets one (some integrands refuse empty batches); it is not shown.
    share = w_max / w_max.sum() if w_max.sum() > 0 else np.full(w_max.size, 1.0 / w_max.size)
    counts = np.floor(share * int(sample_points)).astype(np.int64)
    padded = counts == 0
    batch = sampler.sample(points=int(np.maximum(counts, 1).sum()), allocation=np.maximum(counts, 1))
    shown = ~padded[batch.channel]
    ch_w_max = w_max[batch.channel][shown]
    ratio = np.divide(batch.weight[shown], ch_w_max, out=np.zeros(int(shown.sum())), where=ch_w_max > 0)
    # Each point's share of sigma = sum_c mean_c(w): its weight over its channel's point count.
    contribution = batch.weight[shown] / np.maximum(counts, 1)[batch.channel][shown]
    stats = _figure_weights(figures / "weights.png", ratio, contribution)
    sections.append("<h2>Weights</h2>\n" + _figure_block(
        "weights.png", "Weights of fresh points relative to their channel's w_max; red: overweights"))
    sections.append(_table(("report sample", "value"), [
        ("points", stats["points"]), ("zero-weight share", stats["zero_weight_share"]),
        ("overweight points", stats["overweight_points"]),
        ("overweight share of the cross section", stats["overweight_share"])]))

    events = run_dir / run_info.get("files", {}).get("events", "unweighted_events.lhe.gz")
    if events.is_file():
        obs = event_observables(events)
        _figure_observables(figures / "observables.png", obs)
        sections.append("<h2>Events</h2>\n" + _figure_block("observables.png",
                                                            "Standard observables of the unweighted events"))
    else:
        notes.append("No event file was found: no observables.")

    note_html = "".join(f'<p class="note">{n}</p>\n' for n in notes)
    title = f"madnis-plugin run {run_info.get('run_name', run_dir.name)}: {run_info.get('process', '')}"
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{note_html}{''.join(sections)}</body>\n</html>\n")
    path = run_dir / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path, [c.to_dict() for c in result.channels]
