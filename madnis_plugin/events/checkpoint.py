"""The resumable state of an event-generation run.

Beside the output ``FILE`` a run keeps, until it finishes:

* ``FILE.events.part``: the event body written so far;
* ``FILE.sampler``: the trained sampler (so a resume needs no training);
* ``FILE.resume.json``: the run key (process, physics card values, seed,
  number of events, shard), the generation plan, the running tally and the
  *committed* byte offset of the body file.

After every batch the body is flushed to disk and then the state is replaced
atomically (write + ``os.replace``), so after a crash at any instant the state
names an offset whose bytes are on disk; a resume truncates the body to it and
continues with the next batch. Because every batch reseeds its generators from
its index (:mod:`~madnis_plugin.events.generation`), the resumed file is
byte-identical to an uninterrupted one.

Example:
    >>> from madnis_plugin.events.checkpoint import Checkpoint
    >>> Checkpoint("run.lhe.gz", {"seed": 1}).state_path.name
    'run.lhe.gz.resume.json'
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .generation import GenerationPlan, GenerationTally

__all__ = ["Checkpoint", "ResumeError"]

_FORMAT = 1


class ResumeError(ValueError):
    """No resumable run, or one that does not match this command (one-line message)."""


class Checkpoint:
    """The on-disk state of one generation run writing ``output``.

    Args:
        output: the final event file.
        run_key: what must match for a resume (JSON-ready dict).

    Attributes:
        resuming: True when opened with :meth:`resume`.
        plan, tally, offset: the committed state (after :meth:`resume`).
    """

    def __init__(self, output: str | Path, run_key: dict[str, Any]):
        self.output = Path(output)
        self.run_key = json.loads(json.dumps(run_key, sort_keys=True, default=str))
        self.state_path = self.output.with_name(self.output.name + ".resume.json")
        self.body_path = self.output.with_name(self.output.name + ".events.part")
        self.sampler_path = self.output.with_name(self.output.name + ".sampler")
        self.resuming = False
        self.plan: GenerationPlan | None = None
        self.tally = GenerationTally()
        self.offset = 0

    @classmethod
    def resume(cls, output: str | Path, run_key: dict[str, Any]) -> "Checkpoint":
        """Open the state of an interrupted run; refuse one started with other inputs."""
        ck = cls(output, run_key)
        if not ck.state_path.is_file():
            raise ResumeError(f"nothing to resume: {ck.state_path} does not exist")
        state = json.loads(ck.state_path.read_text())
        if state.get("format") != _FORMAT:
            raise ResumeError(f"{ck.state_path}: unknown checkpoint format")
        saved = state["run_key"]
        differing = sorted(k for k in set(saved) | set(ck.run_key) if saved.get(k) != ck.run_key.get(k))
        if differing:
            raise ResumeError(f"cannot resume {ck.output}: the run was started with other "
                              f"{', '.join(differing)}")
        if not ck.body_path.is_file() or ck.body_path.stat().st_size < state["offset"]:
            raise ResumeError(f"cannot resume {ck.output}: {ck.body_path} is missing or shorter than committed")
        if not ck.sampler_path.is_file():
            raise ResumeError(f"cannot resume {ck.output}: {ck.sampler_path} is missing")
        ck.plan = GenerationPlan.from_dict(state["plan"])
        ck.tally = GenerationTally(**state["tally"])
        ck.offset = int(state["offset"])
        ck.resuming = True
        return ck

    def commit(self, plan: GenerationPlan, tally: GenerationTally, offset: int) -> None:
        """Atomically record that the body holds ``offset`` good bytes after ``tally``."""
        from dataclasses import asdict

        state = {"format": _FORMAT, "run_key": self.run_key, "plan": plan.to_dict(),
                 "tally": asdict(tally), "offset": int(offset)}
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.state_path)

    def remove(self) -> None:
        """Delete the state, body and sampler copy (after the output file is complete)."""
        for path in (self.state_path, self.body_path, self.sampler_path):
            path.unlink(missing_ok=True)
