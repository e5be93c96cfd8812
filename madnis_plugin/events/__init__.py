"""Events: unweighting weighted samples and writing Les Houches event files.

:mod:`~madnis_plugin.events.unweighting` turns weighted points into unweighted
events with bounded overweights, :mod:`~madnis_plugin.events.lhe` writes them
as MadGraph writes LHE 3.0, :mod:`~madnis_plugin.events.generation` drives
both from a trained sampler in reproducible batches,
:mod:`~madnis_plugin.events.checkpoint` makes a run resumable,
:mod:`~madnis_plugin.events.sampler_io` saves and loads samplers with a
physics fingerprint, :mod:`~madnis_plugin.events.parallel` runs batches on
local workers or shards on Dask, :mod:`~madnis_plugin.events.merge` merges
shard files and :mod:`~madnis_plugin.events.run` ties a ``generate`` command
together. See docs/events.md.
"""

from .lhe import LHEEventBuilder, LHEWriter, read_lhe_events
from .merge import merge_lhe
from .unweighting import UnweightingResult, unweight

__all__ = ["LHEEventBuilder", "LHEWriter", "read_lhe_events", "UnweightingResult", "unweight", "merge_lhe"]
