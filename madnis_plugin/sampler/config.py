"""Settings of the neural sampler and the madnis card that carries them.

The card follows MadGraph's run-card layout, one setting per line,
``value = key ! comment``; lines starting with ``#`` are comments.  Every key
has a default (:class:`MadnisConfig`), so a card only needs the lines it
changes; an unknown key is an error that names it (a typo must not silently
fall back to a default).  ``cards/madnis_card.dat`` is :func:`write_madnis_card`
of the defaults.

Example:
    >>> from madnis_plugin.sampler.config import MadnisConfig, parse_madnis_card
    >>> cfg = parse_madnis_card("  500 = train_batches ! fewer steps")
    >>> cfg.train_batches, cfg.batch_size
    (500, 1024)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["MadnisConfig", "UnknownCardKeys", "read_madnis_card", "parse_madnis_card",
           "write_madnis_card", "format_madnis_card"]


def _key(default: Any, doc: str, group: str):
    return dataclasses.field(default=default, metadata={"doc": doc, "group": group})


@dataclass(frozen=True)
class MadnisConfig:
    """Every setting of the neural sampler, with the card defaults (see each field's card comment)."""

    # VEGAS pretraining
    vegas_bins: int = _key(64, "VEGAS increments per axis of each channel's grid", "vegas")
    vegas_iterations: int = _key(10, "VEGAS adaptation iterations before the flow is trained", "vegas")
    vegas_points: int = _key(10000, "integrand calls per VEGAS iteration, over all channels", "vegas")
    vegas_damping: float = _key(0.5, "VEGAS alpha: how fast the grid follows the data", "vegas")
    vegas_buffer_iterations: int = _key(5, "last VEGAS iterations whose points start the training buffer "
                                           "(0: the buffer starts empty)", "vegas")
    vegas_layer: str = _key("trainable", "exact (VEGAS' piecewise-linear map), smooth (splines through its nodes) "
                            "or trainable (smooth, nodes refined in training)", "vegas")
    # Training
    train_batches: int = _key(1000, "training steps (online plus buffered)", "training")
    batch_size: int = _key(1024, "points per training step, over all channels", "training")
    buffer_capacity: int = _key(60000, "samples kept per channel for buffered steps", "training")
    buffered_fraction: float = _key(0.8, "share of steps trained on buffered samples (0: online only)", "training")
    loss: str = _key("variance", "variance (stratified variance) or kl (KL divergence)", "training")
    learning_rate: float = _key(6e-3, "initial Adam learning rate", "training")
    lr_schedule: str = _key("cosine", "cosine (decay to lr_min_factor) or constant", "training")
    lr_min_factor: float = _key(0.01, "final learning rate as a fraction of the initial one", "training")
    lr_warmup: float = _key(0.1, "share of the training steps over which the learning rate rises linearly "
                                 "to learning_rate (0: none)", "training")
    layer_lr_factor: float = _key(3.0, "learning rate of a trainable VEGAS layer's nodes, relative to "
                                       "learning_rate", "training")
    gradient_clip: float = _key(10.0, "largest gradient norm (0: no clipping)", "training")
    allocation_floor: float = _key(0.1, "share of points spread evenly over active channels", "training")
    defensive_fraction: float = _key(0.02, "share of points drawn past the flow, uniform into the VEGAS layer "
                                          "(a mixture that bounds weights by the VEGAS weight / this)", "training")
    # Channels
    learn_channel_weights: bool = _key(True, "train alpha_c = prior_c exp(NN_c) / sum jointly", "channels")
    drop_threshold: float = _key(0.01, "drop channels whose share of the integral is below this", "channels")
    drop_interval: int = _key(100, "check for channels to drop every this many steps (0: never)", "channels")
    drop_max_total: float = _key(0.01, "largest share of the integral that dropped channels may carry in total",
                                 "channels")
    # Networks
    flow_bins: int = _key(10, "rational-quadratic spline bins per coordinate", "network")
    flow_hidden: int = _key(64, "hidden width of the coupling networks", "network")
    flow_layers: int = _key(3, "hidden layers of the coupling networks", "network")
    flow_repeats: int = _key(2, "repetitions of the logarithmic coupling-mask sequence", "network")
    flow_edge_slope: float = _key(0.0, "largest spline slope at the ends of [0, 1]: how much one coupling may "
                                       "thin the density at a face (0: unbounded)", "network")
    channel_mode: str = _key("conditional", "conditional (one net, channel one-hot) or per_channel", "network")
    cwnet_hidden: int = _key(32, "hidden width of the channel-weight network", "network")
    cwnet_layers: int = _key(2, "hidden layers of the channel-weight network", "network")
    # Numerics and evaluation
    dtype: str = _key("float32", "float32 or float64 for the networks", "numerics")
    device: str = _key("auto", "auto (cuda when available), cpu or cuda", "numerics")
    eval_batch_size: int = _key(100000, "most points per network/integrand call when sampling", "numerics")
    max_overweight: float = _key(0.001, "overweight share defining w_max in the metrics", "numerics")

    def replace(self, **changes: Any) -> "MadnisConfig":
        """A copy with ``changes`` applied (unknown names raise :class:`UnknownCardKeys`)."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise UnknownCardKeys(unknown)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """All settings by key."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "MadnisConfig":
        """Settings from a dict such as :meth:`to_dict` made (unknown keys raise)."""
        return cls().replace(**values)


class UnknownCardKeys(ValueError):
    """A madnis card or override named keys that do not exist; ``keys`` lists them."""

    def __init__(self, keys: list[str]):
        self.keys = list(keys)
        super().__init__("unknown madnis card key(s): " + ", ".join(self.keys))


def _convert(text: str, default: Any, key: str) -> Any:
    if isinstance(default, bool):
        lowered = text.strip().lower().strip(".")
        if lowered in ("true", "t", "1", "yes"):
            return True
        if lowered in ("false", "f", "0", "no"):
            return False
        raise ValueError(f"madnis card key {key}: {text!r} is not a boolean")
    try:
        return type(default)(float(text) if isinstance(default, int) and "e" in text.lower() else text)
    except ValueError as exc:
        raise ValueError(f"madnis card key {key}: {text!r} is not a {type(default).__name__}") from exc


def parse_madnis_card(text: str, base: MadnisConfig | None = None) -> MadnisConfig:
    """Settings from card text (``value = key ! comment`` lines) on top of ``base`` (default: defaults)."""
    base = base or MadnisConfig()
    defaults = base.to_dict()
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("!", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"madnis card line {number}: expected 'value = key', got {raw!r}")
        value, key = (part.strip() for part in line.split("=", 1))
        if key not in defaults:
            unknown.append(key)
            continue
        values[key] = _convert(value, defaults[key], key)
    if unknown:
        raise UnknownCardKeys(unknown)
    return base.replace(**values)


def read_madnis_card(path: str | os.PathLike, base: MadnisConfig | None = None) -> MadnisConfig:
    """Settings from the madnis card at ``path`` (see :func:`parse_madnis_card`)."""
    with open(path, encoding="utf-8") as handle:
        return parse_madnis_card(handle.read(), base)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def format_madnis_card(config: MadnisConfig | None = None) -> str:
    """The card text of ``config`` (default: the defaults), every key with its comment."""
    config = config or MadnisConfig()
    lines = [
        "#*********************************************************************",
        "#                       MadNIS plugin card                            *",
        "#  Settings of the neural importance sampler (madnis_plugin.sampler). *",
        "#  Format: value = key ! comment. Missing keys take these defaults;   *",
        "#  unknown keys are an error.                                         *",
        "#*********************************************************************",
    ]
    group = None
    for f in fields(config):
        if f.metadata["group"] != group:
            group = f.metadata["group"]
            lines += ["#" + "-" * 69, f"# {group}", "#" + "-" * 69]
        lines.append(f"  {_format_value(getattr(config, f.name)):>10} = {f.name:<22} ! {f.metadata['doc']}")
    return "\n".join(lines) + "\n"


def write_madnis_card(path: str | os.PathLike, config: MadnisConfig | None = None) -> None:
    """Write :func:`format_madnis_card` of ``config`` to ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(format_madnis_card(config))
