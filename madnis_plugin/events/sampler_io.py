"""Saving and loading trained samplers for event generation, guarded by a fingerprint.

A sampler file is only valid for the integrand it was trained on. The
fingerprint stored with it names the process (``Process.fingerprint``: matrix
element library, metadata and parameters), every physics-changing run-card
value (``RunCard.physics_values()`` less the output-only ``event_norm``) and the integrand's shape; loading it for a
run whose fingerprint differs is refused, naming what differs.

Example:
    >>> from madnis_plugin.api import prepare_run
    >>> from madnis_plugin.events.sampler_io import run_fingerprint
    >>> sorted(run_fingerprint(prepare_run("ee_mumu")))          # doctest: +SKIP
    ['channels', 'dim', 'physics', 'process', 'process_name']
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ..phasespace import MAPS_VERSION

__all__ = ["OUTPUT_ONLY_KEYS", "SamplerFileError", "run_fingerprint", "save_sampler", "load_sampler", "sampler_kind"]


#: Run-card keys that change only how events are written, never the integrand a sampler learned.
OUTPUT_ONLY_KEYS = frozenset({"event_norm"})


class SamplerFileError(ValueError):
    """A sampler file that cannot be used for this run (one-line message)."""


def _json_normalised(value: Any) -> Any:
    """``value`` after a JSON round trip, so saved and fresh fingerprints compare equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def run_fingerprint(setup) -> dict[str, Any]:
    """What a sampler file must match: process fingerprint, physics card values, channels.

    Args:
        setup: a :class:`~madnis_plugin.api.RunSetup`.
    """
    return _json_normalised({
        "process": setup.process.fingerprint,
        "process_name": setup.process.name,
        "physics": {k: v for k, v in setup.run_card.physics_values().items() if k not in OUTPUT_ONLY_KEYS},
        "dim": setup.integrand.dim,
        "channels": list(setup.integrand.channel_names),
        "maps": MAPS_VERSION,
    })


def sampler_kind(path: str | Path) -> str:
    """``"vegas"`` (numpy ``.npz``) or ``"madnis"`` (``torch.save`` archive) for a sampler file."""
    path = Path(path)
    if not path.is_file():
        raise SamplerFileError(f"sampler file not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise SamplerFileError(f"{path} is not a sampler file") from None
    if "meta.npy" in names:
        return "vegas"
    if any(name.endswith("data.pkl") for name in names):
        return "madnis"
    raise SamplerFileError(f"{path} is not a sampler file")


def save_sampler(sampler, path: str | Path, setup) -> None:
    """Write ``sampler`` to ``path`` with the fingerprint of ``setup``."""
    sampler.save(path, fingerprint=run_fingerprint(setup))


def _differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    problems = []
    if saved.get("process") != current["process"]:
        problems.append(f"process fingerprint {saved.get('process')} (file) != {current['process']} (run)")
    saved_physics = saved.get("physics", {})
    for key in sorted(set(saved_physics) | set(current["physics"])):
        if saved_physics.get(key) != current["physics"].get(key):
            problems.append(f"{key} = {saved_physics.get(key)} (file) != {current['physics'].get(key)} (run)")
    if saved.get("maps") != current["maps"]:
        problems.append(f"phase-space maps of version {saved.get('maps')} (file) != {current['maps']} (run): "
                        "train the sampler again")
    for key in ("dim", "channels"):
        if saved.get(key) != current[key]:
            problems.append(f"{key} differ")
    return problems


def load_sampler(path: str | Path, setup):
    """Load a saved sampler for ``setup``, refusing one trained for different physics.

    Raises:
        SamplerFileError: missing or unreadable file, or a fingerprint that
            differs from the run's (the message names the differences).
    """
    kind = sampler_kind(path)
    try:
        if kind == "vegas":
            from ..sampler import VegasSampler

            sampler = VegasSampler.load(path, setup.integrand)
        else:
            from ..sampler import MadnisSampler

            # On the device its card names, as the run that trained it: a resumed or
            # parallel run then evaluates the networks with the same arithmetic
            # (CPU and CUDA float32 differ in the last bits, and so would the events).
            sampler = MadnisSampler.load(path, setup.integrand)
    except ValueError as exc:
        raise SamplerFileError(f"{path}: {exc}") from None
    problems = _differences(sampler.fingerprint or {}, run_fingerprint(setup))
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise SamplerFileError(f"{path} was trained for a different run: {shown}")
    return sampler
