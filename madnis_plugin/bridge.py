"""Python face of the C bridge: load a UMAMI library and evaluate numpy batches.

Python hands whole numpy arrays to C once per batch; the C side transposes
them into UMAMI's layout and calls the library. Every UMAMI status other than
success raises :class:`UmamiError` naming the status and the call.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.bridge import UmamiLibrary
    >>> from madnis_plugin.process import load_process
    >>> lib = load_process("ee_mumu").library
    >>> p = np.array([[[500, 0, 0, 500], [500, 0, 0, -500],
    ...                [500, 0, 500, 0], [500, 0, -500, 0]]], dtype=float)
    >>> lib.evaluate(p).me2.shape
    (1,)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._bridge import ffi, lib as _c

__all__ = ["UmamiLibrary", "UmamiError", "MatrixElementResult", "INPUT_KEYS", "OUTPUT_KEYS"]

#: UMAMI input keys by name (csrc/umami.h).
INPUT_KEYS = {
    "MOMENTA": 0, "ALPHA_S": 1, "FLAVOR_INDEX": 2, "RANDOM_COLOR": 3, "RANDOM_HELICITY": 4,
    "RANDOM_DIAGRAM": 5, "HELICITY_INDEX": 6, "DIAGRAM_INDEX": 7, "CHANNEL_INDEX": 8, "G_STRONG": 9,
}
#: UMAMI output keys by name (csrc/umami.h).
OUTPUT_KEYS = {
    "MATRIX_ELEMENT": 0, "DIAGRAM_AMP2": 1, "COLOR_INDEX": 2, "HELICITY_INDEX": 3,
    "DIAGRAM_INDEX": 4, "GPU_STREAM": 5, "SQUARED_ORDERS": 6,
}


class UmamiError(RuntimeError):
    """A UMAMI call or the bridge failed.

    Attributes:
        status: the numeric status (UMAMI 1..7, bridge >= 100).
        status_name: its name, e.g. ``UMAMI_ERROR_UNSUPPORTED_INPUT``.
    """

    def __init__(self, status: int, message: str):
        self.status = int(status)
        self.status_name = ffi.string(_c.mp_status_name(status)).decode()
        super().__init__(message)


@dataclass(slots=True)
class MatrixElementResult:
    """One batch of matrix-element outputs.

    Attributes:
        me2: ``(n,)`` |M|^2, summed/averaged as MadGraph's SMATRIX.
        amp2: ``(n, diagrams)`` normalised per-diagram weights, or None.
        color_index: ``(n,)`` selected colour flow (0-based), or None.
        helicity_index: ``(n,)`` selected helicity configuration (0-based), or None.
    """

    me2: np.ndarray
    amp2: np.ndarray | None = None
    color_index: np.ndarray | None = None
    helicity_index: np.ndarray | None = None


def _pointer(array: np.ndarray | None, ctype: str):
    return ffi.NULL if array is None else ffi.cast(ctype, ffi.from_buffer(array))


class UmamiLibrary:
    """A loaded UMAMI 1.1 library with one initialised handle.

    Not thread-safe (one handle per thread, as UMAMI requires); open one per
    worker process.

    Args:
        path: the shared library.
        param_card: SLHA param card passed to ``umami_initialize`` (None: the
            library's defaults).
    """

    def __init__(self, path: str | Path, param_card: str | Path | None = None):
        self.path = Path(path)
        self._handle = ffi.new("mp_library**")
        error = ffi.new("char[1024]")
        card = ffi.NULL if param_card is None else str(param_card).encode()
        status = _c.mp_open(str(self.path).encode(), card, self._handle, error, 1024)
        if status != 0:
            raise UmamiError(status, ffi.string(error).decode())
        self._lib = self._handle[0]
        self.n_particles = _c.mp_particle_count(self._lib)
        self.n_diagrams = _c.mp_diagram_count(self._lib)
        self.n_helicities = _c.mp_helicity_count(self._lib)
        self.n_colors = _c.mp_color_count(self._lib)
        self.fingerprint = ffi.string(_c.mp_fingerprint(self._lib)).decode()

    def _check(self, status: int) -> None:
        if status != 0:
            raise UmamiError(status, ffi.string(_c.mp_error(self._lib)).decode())

    def close(self) -> None:
        """Free the handle and unload the library (idempotent)."""
        if getattr(self, "_lib", None) is not None:
            _c.mp_close(self._lib)
            self._lib = None

    def __del__(self):
        self.close()

    def supports_input(self, name: str) -> bool:
        return bool(_c.mp_supports_input(self._lib, INPUT_KEYS[name]))

    def supports_output(self, name: str) -> bool:
        return bool(_c.mp_supports_output(self._lib, OUTPUT_KEYS[name]))

    def masses(self) -> np.ndarray:
        """The library's default external masses, ``(n_particles,)``."""
        out = np.zeros(self.n_particles)
        self._check(_c.mp_masses(self._lib, _pointer(out, "double*")))
        return out

    def set_parameter(self, name: str, value: complex | float) -> None:
        value = complex(value)
        self._check(_c.mp_set_parameter(self._lib, name.encode(), value.real, value.imag))

    def get_parameter(self, name: str) -> complex:
        re, im = ffi.new("double*"), ffi.new("double*")
        self._check(_c.mp_get_parameter(self._lib, name.encode(), re, im))
        return complex(re[0], im[0])

    def evaluate(
        self,
        momenta: np.ndarray,
        alpha_s: np.ndarray | float | None = None,
        flavor_index: np.ndarray | int | None = None,
        random_color: np.ndarray | None = None,
        random_helicity: np.ndarray | None = None,
        amp2: bool = False,
        color: bool = False,
        helicity: bool = False,
    ) -> MatrixElementResult:
        """Evaluate a batch.

        Args:
            momenta: ``(n, n_particles, 4)`` float64, (E, px, py, pz) in GeV.
                Any memory layout; UMAMI's own (the event index fastest, as
                ``np.empty((4, n_particles, n)).T``) is handed over without a
                copy, and ``amp2`` then comes back in the same layout.
            alpha_s: per-event (or one) strong coupling; None: the param card's.
            flavor_index: per-event (or one) subprocess index; None: 0.
            random_color, random_helicity: ``(n,)`` uniform numbers in [0, 1)
                driving colour and helicity selection.
            amp2, color, helicity: also return per-diagram weights, colour and
                helicity indices.
        """
        p = np.asarray(momenta)
        if p.ndim != 3 or p.shape[1:] != (self.n_particles, 4):
            raise ValueError(
                f"momenta must have shape (events, {self.n_particles}, 4), got {p.shape}")
        n = p.shape[0]
        # UMAMI's own layout (the event index fastest, e.g. ``np.empty((4, k, n)).T``)
        # goes to the library as it is; anything else is made event-major and
        # transposed in C, chunk by chunk.
        columns = p.dtype == np.float64 and p.T.flags.c_contiguous and n > 1
        if columns:
            evaluate = _c.mp_evaluate_columns
            p_columns = p.T
        else:
            evaluate = _c.mp_evaluate
            p = np.ascontiguousarray(p, dtype=np.float64)

        def per_event(value, dtype):
            if value is None:
                return None
            array = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), (n,)))
            return array

        a_s = per_event(alpha_s, np.float64)
        flavor = per_event(flavor_index, np.int32)
        r_col = per_event(random_color, np.float64)
        r_hel = per_event(random_helicity, np.float64)
        me2 = np.empty(n)
        amp2_out = (np.empty((self.n_diagrams, n)).T if columns else np.empty((n, self.n_diagrams))) if amp2 else None
        color_out = np.empty(n, dtype=np.int32) if color else None
        helicity_out = np.empty(n, dtype=np.int32) if helicity else None
        if n:
            self._check(
                evaluate(
                    self._lib, n, _pointer(p_columns if columns else p, "double*"), _pointer(a_s, "double*"),
                    _pointer(flavor, "int*"), _pointer(r_col, "double*"), _pointer(r_hel, "double*"),
                    _pointer(me2, "double*"), _pointer(amp2_out.T if columns and amp2 else amp2_out, "double*"),
                    _pointer(color_out, "int*"), _pointer(helicity_out, "int*"),
                )
            )
        return MatrixElementResult(me2, amp2_out, color_out, helicity_out)
