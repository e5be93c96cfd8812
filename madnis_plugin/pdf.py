"""Parton densities with LHAPDF's interface and LHAPDF 6.5's numbers.

``mkPDF(name_or_path, member=0)`` returns a PDF member with LHAPDF's methods
``xfxQ(pid, x, Q)``, ``xfxQ2(pid, x, Q2)``, ``alphasQ(Q)``, ``alphasQ2(Q2)``,
vectorised: pid, x and Q broadcast against each other as numpy arrays (scalars
in, float out). LHAPDF's semantics hold: pid 0 is the gluon (as 21), a pid the
set does not have gives 0, and x outside [0, 1] (or Q2 < 0) raises
:class:`PDFRangeError`, a ``ValueError``.

Backends:

* the ``lhapdf`` Python module when it is importable (``backend="auto"``),
  wrapped to the same vectorised API (:class:`LHAPDFModulePDF`);
* otherwise this module's own reader of LHAPDF6 ``lhagrid1`` sets
  (:class:`GridPDF`), which reimplements LHAPDF 6.5's algorithm:

  - knots of all Q subgrids concatenated in one array, a subgrid boundary
    (flavour threshold) appearing as a repeated Q knot;
  - log-bicubic interpolation: a cubic Hermite polynomial in log x with knot
    derivatives from the mean of the left and right finite differences
    (one-sided at the ends), evaluated on the four Q rows around the point,
    then a cubic Hermite polynomial in log Q^2 whose knot derivatives are the
    mean of neighbouring differences scaled to the interval, one-sided at a
    subgrid edge, and linear in both when a subgrid has only two Q knots;
  - LHAPDF's default ``continuation`` extrapolation: log-linear (or linear
    for small values) continuation from the two edge knots at small x and
    large Q, and below the lowest Q the anomalous-dimension extrapolation
    f(Q2min) (Q2/Q2min)^(g Q2/Q2min + 1 - Q2/Q2min), g = dln f/dln Q2 at
    Q2min (at least -2.5), so that densities vanish as Q2 -> 0;
  - the set's alpha_s from its metadata (:mod:`madnis_plugin.alphas`).

Sets are found by name in ``$LHAPDF_DATA_PATH``, ``$LHAPATH`` (colon-separated)
and the package's own data (``madnis_plugin/data/pdfsets``, which ships
NNPDF23_lo_as_0130_qed, MadGraph's default ``nn23lo1``), by LHAPDF ID, or by
a path to a set directory or a member ``.dat`` file.

Example:
    >>> from madnis_plugin.pdf import mkPDF
    >>> import numpy as np
    >>> pdf = mkPDF("NNPDF23_lo_as_0130_qed", backend="native")
    >>> pdf.lhapdf_id
    247000
    >>> round(pdf.xfxQ(21, 0.01, 100.0), 4)
    7.979
    >>> pdf.xfxQ(np.array([1, 2]), np.array([[0.1], [0.2]]), 100.0).shape
    (2, 2)
"""

from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from madnis_plugin.alphas import LHAPDFAlphaS, lhapdf_alphas_from_info

__all__ = [
    "mkPDF",
    "GridPDF",
    "LHAPDFModulePDF",
    "PDFRangeError",
    "PDFNotFoundError",
    "pdf_search_paths",
    "find_pdf_set",
    "lookup_lhapdf_id",
    "parse_info",
    "PACKAGE_PDF_DIR",
    "DEFAULT_PDF_SET",
    "DEFAULT_LHAPDF_ID",
]

#: Where the package's own LHAPDF6 sets live.
PACKAGE_PDF_DIR = Path(__file__).resolve().parent / "data" / "pdfsets"
#: MadGraph's default PDF (``pdlabel = nn23lo1``), shipped with the package.
DEFAULT_PDF_SET = "NNPDF23_lo_as_0130_qed"
DEFAULT_LHAPDF_ID = 247000

# LHAPDF's global configuration (lhapdf.conf): the bottom of the metadata cascade.
_LHAPDF_DEFAULTS: dict[str, Any] = {
    "Interpolator": "logcubic",
    "Extrapolator": "continuation",
    "ForcePositive": 0,
    "AlphaS_Type": "analytic",
    "MZ": 91.1876,
    "MUp": 0.002,
    "MDown": 0.005,
    "MStrange": 0.10,
    "MCharm": 1.29,
    "MBottom": 4.19,
    "MTop": 172.9,
}


class PDFRangeError(ValueError):
    """An x or Q2 that LHAPDF rejects (x outside [0, 1], Q2 < 0, x above the grid)."""


class PDFNotFoundError(FileNotFoundError):
    """No PDF set or member file matches the request."""


# ---------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _parse_scalar(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _NUMBER.match(text):
        return int(text) if re.match(r"^[+-]?\d+$", text) else float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_info(text: str) -> dict[str, Any]:
    """Parse LHAPDF metadata (``.info`` files, ``.dat`` headers): ``Key: value`` lines.

    Values are numbers, booleans, strings (quoted or not) and flow lists
    ``[a, b, ...]`` that may run over several lines. Leading whitespace and
    ``#`` comment lines are ignored, as LHAPDF's reader tolerates them.

    Example:
        >>> parse_info("  SetIndex: 247000\\nFlavors: [-1, 1,\\n  21]\\nSetDesc: 'an LO set'")
        {'SetIndex': 247000, 'Flavors': [-1, 1, 21], 'SetDesc': 'an LO set'}
    """
    out: dict[str, Any] = {}
    lines = iter(text.splitlines())
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or line == "---":
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if value.startswith("["):
            while "]" not in value:
                try:
                    value += " " + next(lines).strip()
                except StopIteration as err:
                    raise ValueError(f"unterminated list for metadata key {key!r}") from err
            body = value[1:value.index("]")]
            out[key.strip()] = [_parse_scalar(v) for v in body.split(",") if v.strip()]
        else:
            out[key.strip()] = _parse_scalar(value)
    return out


# ---------------------------------------------------------------------------
# Finding sets
# ---------------------------------------------------------------------------

def pdf_search_paths() -> list[Path]:
    """Directories searched for PDF sets: ``$LHAPDF_DATA_PATH``, ``$LHAPATH``, then the package data."""
    paths: list[Path] = []
    for var in ("LHAPDF_DATA_PATH", "LHAPATH"):
        for entry in os.environ.get(var, "").split(":"):
            if entry and Path(entry).is_dir():
                paths.append(Path(entry))
    paths.append(PACKAGE_PDF_DIR)
    return paths


def find_pdf_set(name: str) -> Path:
    """The directory of the set called ``name`` (the first found along :func:`pdf_search_paths`)."""
    for base in pdf_search_paths():
        candidate = base / name
        if (candidate / f"{name}.info").is_file():
            return candidate
    searched = ", ".join(str(p) for p in pdf_search_paths())
    raise PDFNotFoundError(f"PDF set {name!r} not found in {searched}; set LHAPDF_DATA_PATH "
                           "to a directory that holds it")


def lookup_lhapdf_id(lhapdf_id: int) -> tuple[str, int]:
    """(set name, member) of an LHAPDF ID, from ``pdfsets.index`` files or the sets' ``SetIndex``."""
    best: tuple[int, str] | None = None
    for base in pdf_search_paths():
        entries: list[tuple[int, str]] = []
        index = base / "pdfsets.index"
        if index.is_file():
            for line in index.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[0].lstrip("-").isdigit():
                    entries.append((int(parts[0]), parts[1]))
        # Without an index file, read the SetIndex of every set present.
        for info_path in ([] if entries else sorted(base.glob("*/*.info"))):
            if info_path.stem != info_path.parent.name:
                continue
            meta = parse_info(info_path.read_text())
            if isinstance(meta.get("SetIndex"), int):
                entries.append((meta["SetIndex"], info_path.stem))
        for first, name in entries:
            if first <= lhapdf_id and (best is None or first > best[0]):
                best = (first, name)
    if best is None:
        raise PDFNotFoundError(f"no PDF set with LHAPDF ID {lhapdf_id} found")
    return best[1], lhapdf_id - best[0]


def _resolve(name_or_path: str | int | os.PathLike[str], member: int) -> tuple[Path, str, int]:
    """(set directory, set name, member) for any of mkPDF's request forms."""
    if isinstance(name_or_path, (int, np.integer)):
        name, member = lookup_lhapdf_id(int(name_or_path))
        return find_pdf_set(name), name, member
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path, path.name, member
    if path.is_file() and path.suffix == ".dat":
        match = re.match(r"^(.*)_(\d{4})$", path.stem)
        if not match:
            raise PDFNotFoundError(f"{path} is not a member file named SET_NNNN.dat")
        return path.parent, path.parent.name, int(match.group(2))
    if "/" in text and not path.exists():
        name, _, mem = text.rpartition("/")
        if mem.isdigit():
            return find_pdf_set(name), name, int(mem)
    return find_pdf_set(text), text, member


# ---------------------------------------------------------------------------
# The grid and its interpolation
# ---------------------------------------------------------------------------

class _KnotArray:
    """A member's grid: knots of all subgrids concatenated, values, precomputed x-cubics.

    Attributes:
        xs, log_xs: (nx,) x knots.
        q2s, log_q2s: (nq,) Q^2 knots of all subgrids in order (boundaries repeated).
        pids: (npid,) the grid's parton ids in column order.
        xf: (nx, nq, npid) values x f(x, Q^2).
        coeffs: (nx-1, nq, npid, 4) cubic coefficients in t = fractional log x.
    """

    def __init__(self, xs: np.ndarray, q2s: np.ndarray, pids: np.ndarray, xf: np.ndarray) -> None:
        if xs.size < 4:
            raise ValueError("log-bicubic interpolation needs at least 4 x knots")
        if q2s.size < 2:
            raise ValueError("log-bicubic interpolation needs at least 2 Q knots")
        self.xs, self.q2s, self.pids, self.xf = xs, q2s, pids, xf
        self.log_xs = np.log(xs)
        self.log_q2s = np.log(q2s)
        self.nx, self.nq, self.npid = xf.shape
        self.coeffs = self._x_cubic_coefficients()
        # For speed, a copy laid out (x interval, flavour, Q knot) with one padding
        # Q row on each side, so that the four Q rows iq-1 .. iq+2 an interpolation
        # needs are 16 consecutive numbers: one gather per point instead of four.
        self._make_blocks()
        nq = self.nq
        # Per Q interval iq: subgrid-edge flags and the (inverse) log-Q2 widths
        # that LHAPDF's derivative estimates use.
        iq = np.arange(nq - 1)
        prev_equal = np.r_[True, q2s[1:-1] == q2s[:-2]]               # q2s[iq] == q2s[iq-1]
        next_equal = np.r_[q2s[1:-1] == q2s[2:], True]                 # q2s[iq+1] == q2s[iq+2]
        self.q_lower_edge = (iq == 0) | prev_equal
        self.q_upper_edge = (iq + 1 == nq - 1) | next_equal
        with np.errstate(divide="ignore"):
            width = np.diff(self.log_q2s)
            self.dlogq_1 = width                                       # log q2[iq+1] - log q2[iq]
            self.inv_dlogq_0 = np.r_[0.0, 1.0 / width[:-1]]            # 1 / (log q2[iq] - log q2[iq-1])
            self.inv_dlogq_2 = np.r_[1.0 / width[1:], 0.0]             # 1 / (log q2[iq+2] - log q2[iq+1])
        self.inv_dlogq_0[~np.isfinite(self.inv_dlogq_0)] = 0.0
        self.inv_dlogq_2[~np.isfinite(self.inv_dlogq_2)] = 0.0

    def _make_blocks(self) -> None:
        padded = np.concatenate([self.coeffs[:, :1], self.coeffs, self.coeffs[:, -1:]], axis=1)
        row_block = np.ascontiguousarray(padded.transpose(0, 2, 1, 3)).reshape(-1)
        self._blocks = np.lib.stride_tricks.sliding_window_view(row_block, 16)[::4]

    def __getstate__(self) -> dict[str, Any]:
        # The overlapping-window view would pickle as a 4x larger copy: rebuild it instead.
        state = self.__dict__.copy()
        del state["_blocks"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._make_blocks()

    def _x_cubic_coefficients(self) -> np.ndarray:
        lx, f = self.log_xs, self.xf
        dlx = np.diff(lx)                                              # (nx-1,)
        slopes = np.diff(f, axis=0) / dlx[:, None, None]               # (nx-1, nq, npid)
        ddx = np.empty_like(f)
        ddx[0] = slopes[0]
        ddx[-1] = slopes[-1]
        ddx[1:-1] = 0.5 * (slopes[:-1] + slopes[1:])
        vl, vh = f[:-1], f[1:]
        vdl = ddx[:-1] * dlx[:, None, None]
        vdh = ddx[1:] * dlx[:, None, None]
        coeffs = np.empty(vl.shape + (4,))
        coeffs[..., 0] = vdh + vdl - 2 * vh + 2 * vl
        coeffs[..., 1] = 3 * vh - 3 * vl - 2 * vdl - vdh
        coeffs[..., 2] = vdl
        coeffs[..., 3] = vl
        return np.ascontiguousarray(coeffs)

    def interpolate(self, col: np.ndarray, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
        """x f at points inside the grid; col, x, q2: (n,) column indices and coordinates."""
        xs, q2s = self.xs, self.q2s
        ix = np.searchsorted(xs, x, side="right")
        ix = np.where(ix == self.nx, ix - 1, ix) - 1
        iq = np.searchsorted(q2s, q2, side="right")
        iq = np.where(iq == self.nq, iq - 1, iq) - 1
        log_x = np.log(x)
        log_q2 = np.log(q2)
        tx = (log_x - self.log_xs[ix]) / (self.log_xs[ix + 1] - self.log_xs[ix])
        lower = self.q_lower_edge[iq]
        upper = self.q_upper_edge[iq]
        linear = lower & upper
        if not linear.any():
            return self._bicubic(col, ix, iq, tx, log_q2, lower, upper)
        out = np.empty(x.shape)
        cubic = ~linear
        if cubic.any():
            out[cubic] = self._bicubic(col[cubic], ix[cubic], iq[cubic], tx[cubic],
                                       log_q2[cubic], lower[cubic], upper[cubic])
        if linear.any():
            out[linear] = self._bilinear(col[linear], ix[linear], iq[linear], log_x[linear],
                                         log_q2[linear])
        return out

    def _bicubic(self, col: np.ndarray, ix: np.ndarray, iq: np.ndarray, tx: np.ndarray,
                 log_q2: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        # x-cubics on Q rows iq-1, iq, iq+1, iq+2 (padded row index iq .. iq+3);
        # rows outside the array are padding whose values are never used.
        block = (ix * self.npid + col) * (self.nq + 2) + iq
        c = self._blocks[block].reshape(-1, 4, 4)
        tx2 = tx * tx
        tx3 = tx2 * tx
        rows = (c[:, :, 0] * tx3[:, None] + c[:, :, 1] * tx2[:, None]
                + c[:, :, 2] * tx[:, None] + c[:, :, 3])
        vll, vl, vh, vhh = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        dlogq_1 = self.dlogq_1[iq]
        diff = vh - vl
        # Derivatives in log Q2 times the interval width: one-sided at a subgrid
        # edge, otherwise the mean of the neighbouring differences rescaled.
        central_low = (diff + (vl - vll) * dlogq_1 * self.inv_dlogq_0[iq]) * 0.5
        central_high = (diff + (vhh - vh) * dlogq_1 * self.inv_dlogq_2[iq]) * 0.5
        vdl = np.where(lower, diff, central_low)
        vdh = np.where(upper & ~lower, diff, central_high)
        t = (log_q2 - self.log_q2s[iq]) / dlogq_1
        t2 = t * t
        t3 = t * t2
        return ((2 * t3 - 3 * t2 + 1) * vl + (t3 - 2 * t2 + t) * vdl
                + (-2 * t3 + 3 * t2) * vh + (t3 - t2) * vdh)

    def _bilinear(self, col: np.ndarray, ix: np.ndarray, iq: np.ndarray, log_x: np.ndarray,
                  log_q2: np.ndarray) -> np.ndarray:
        f = self.xf
        lx0, lx1 = self.log_xs[ix], self.log_xs[ix + 1]
        fx = (log_x - lx0) / (lx1 - lx0)
        f_ql = f[ix, iq, col] + fx * (f[ix + 1, iq, col] - f[ix, iq, col])
        f_qh = f[ix, iq + 1, col] + fx * (f[ix + 1, iq + 1, col] - f[ix, iq + 1, col])
        lq0, lq1 = self.log_q2s[iq], self.log_q2s[iq + 1]
        return f_ql + (log_q2 - lq0) / (lq1 - lq0) * (f_qh - f_ql)


def _extrapolate_linear(x: np.ndarray, xl: np.ndarray | float, xh: np.ndarray | float,
                        yl: np.ndarray, yh: np.ndarray) -> np.ndarray:
    """Linear continuation in log x of (xl, yl)-(xh, yh): in log y when both y > 1e-3."""
    frac = (np.log(x) - np.log(xl)) / (np.log(xh) - np.log(xl))
    positive = (yl > 1e-3) & (yh > 1e-3)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_form = np.exp(np.log(yl) + frac * (np.log(yh) - np.log(yl)))
    return np.where(positive, log_form, yl + frac * (yh - yl))


def _continuation(grid: _KnotArray, col: np.ndarray, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """LHAPDF's ContinuationExtrapolator for points outside the grid (x <= the last x knot)."""
    xs, q2s = grid.xs, grid.q2s
    x_min, x_min1, x_max = xs[0], xs[1], xs[-1]
    q2_min, q2_max1, q2_max = q2s[0], q2s[-2], q2s[-1]
    ipol = grid.interpolate
    out = np.empty(x.shape)

    def full(value: float, mask: np.ndarray) -> np.ndarray:
        return np.full(int(mask.sum()), value)

    small_x = (x < x_min) & (q2 >= q2_min) & (q2 <= q2_max)
    large_q = (x >= x_min) & (x <= x_max) & (q2 > q2_max)
    both = (x < x_min) & (q2 > q2_max)
    low_q = (q2 < q2_min) & (x <= x_max)
    if small_x.any():
        m = small_x
        c, xm, qm = col[m], x[m], q2[m]
        out[m] = _extrapolate_linear(xm, x_min, x_min1, ipol(c, full(x_min, m), qm),
                                     ipol(c, full(x_min1, m), qm))
    if large_q.any():
        m = large_q
        c, xm, qm = col[m], x[m], q2[m]
        out[m] = _extrapolate_linear(qm, q2_max, q2_max1, ipol(c, xm, full(q2_max, m)),
                                     ipol(c, xm, full(q2_max1, m)))
    if both.any():
        m = both
        c, xm, qm = col[m], x[m], q2[m]
        f_min = _extrapolate_linear(qm, q2_max, q2_max1, ipol(c, full(x_min, m), full(q2_max, m)),
                                    ipol(c, full(x_min, m), full(q2_max1, m)))
        f_min1 = _extrapolate_linear(qm, q2_max, q2_max1, ipol(c, full(x_min1, m), full(q2_max, m)),
                                     ipol(c, full(x_min1, m), full(q2_max1, m)))
        out[m] = _extrapolate_linear(xm, x_min, x_min1, f_min, f_min1)
    if low_q.any():
        m = low_q
        c, xm, qm = col[m], x[m], q2[m]
        f_q = np.empty(xm.shape)
        f_q1 = np.empty(xm.shape)
        below_x = xm < x_min
        # f at Q2min and at 1.01 Q2min, for the anomalous dimension dln f / dln Q2.
        q2_above = 1.01 * q2_min
        if below_x.any():
            b = below_x
            cb, xb = c[b], xm[b]
            f_q[b] = _extrapolate_linear(xb, x_min, x_min1, ipol(cb, full(x_min, b), full(q2_min, b)),
                                         ipol(cb, full(x_min1, b), full(q2_min, b)))
            f_q1[b] = _extrapolate_linear(xb, x_min, x_min1,
                                          ipol(cb, full(x_min, b), full(q2_above, b)),
                                          ipol(cb, full(x_min1, b), full(q2_above, b)))
        inx = ~below_x
        if inx.any():
            f_q[inx] = ipol(c[inx], xm[inx], full(q2_min, inx))
            f_q1[inx] = ipol(c[inx], xm[inx], full(q2_above, inx))
        with np.errstate(invalid="ignore", divide="ignore"):
            anom = np.where(np.abs(f_q) >= 1e-5, np.maximum(-2.5, (f_q1 - f_q) / f_q / 0.01), 1.0)
            ratio = qm / q2_min
            out[m] = f_q * np.power(ratio, anom * ratio + 1.0 - ratio)
    return out


@functools.lru_cache(maxsize=16)
def _load_member(path: str, mtime: float) -> tuple[dict[str, Any], _KnotArray]:
    """(header metadata, grid) of one ``lhagrid1`` member file; cached per path and mtime."""
    text = Path(path).read_text()
    blocks: list[list[str]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line == "---":
            blocks.append([])
        else:
            blocks[-1].append(line)
    if len(blocks) < 3 or blocks[-1]:
        raise ValueError(f"{path}: not an lhagrid1 file (it must end with a '---' line)")
    header = parse_info("\n".join(blocks[0]))
    fmt = str(header.get("Format", "lhagrid1"))
    if fmt != "lhagrid1":
        raise ValueError(f"{path}: format {fmt!r} is not supported (only lhagrid1)")
    xs: np.ndarray | None = None
    pids: np.ndarray | None = None
    q2_parts: list[np.ndarray] = []
    value_parts: list[np.ndarray] = []
    for number, block in enumerate(b for b in blocks[1:-1] if b):
        if len(block) < 3:
            raise ValueError(f"{path}: subgrid {number} lacks its knot and flavour lines")
        bx = np.array(block[0].split(), dtype=np.float64)
        bq = np.array(block[1].split(), dtype=np.float64)
        bp = np.array(block[2].split(), dtype=np.int64)
        if xs is None:
            xs, pids = bx, bp
        elif not (np.array_equal(bx, xs) and np.array_equal(bp, pids)):
            raise ValueError(f"{path}: subgrid {number} has other x knots or flavours than the first")
        values = np.array(" ".join(block[3:]).split(), dtype=np.float64)
        expected = bx.size * bq.size * bp.size
        if values.size != expected:
            raise ValueError(f"{path}: subgrid {number} has {values.size} values, expected "
                             f"{bx.size} x {bq.size} x {bp.size} = {expected}")
        q2_parts.append(bq * bq)
        value_parts.append(values.reshape(bx.size, bq.size, bp.size))
    if xs is None or pids is None:
        raise ValueError(f"{path}: no subgrid found")
    grid = _KnotArray(xs, np.concatenate(q2_parts), pids, np.concatenate(value_parts, axis=1))
    return header, grid


# ---------------------------------------------------------------------------
# PDF objects
# ---------------------------------------------------------------------------

def _broadcast(pid: Any, x: Any, q2: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    pid_a = np.asarray(pid)
    x_a = np.asarray(x, dtype=np.float64)
    q2_a = np.asarray(q2, dtype=np.float64)
    scalar = pid_a.ndim == 0 and x_a.ndim == 0 and q2_a.ndim == 0
    if pid_a.dtype.kind not in "iu":
        if not np.all(np.equal(np.mod(pid_a, 1), 0)):
            raise ValueError("parton ids must be integers")
        pid_a = pid_a.astype(np.int64)
    pid_b, x_b, q2_b = np.broadcast_arrays(pid_a, x_a, q2_a)
    return pid_b, x_b, q2_b, scalar


def _check_physical(x: np.ndarray, q2: np.ndarray) -> None:
    bad_x = ~((x >= 0.0) & (x <= 1.0))
    if bad_x.any():
        raise PDFRangeError(f"Unphysical x given: {x[bad_x].ravel()[0]:g}")
    bad_q = ~(q2 >= 0.0)
    if bad_q.any():
        raise PDFRangeError(f"Unphysical Q2 given: {q2[bad_q].ravel()[0]:g}")


class GridPDF:
    """One member of an LHAPDF6 ``lhagrid1`` set, evaluated as LHAPDF 6.5 does (no lhapdf needed).

    Use :func:`mkPDF` to build one. All evaluation methods broadcast their
    arguments (numpy arrays of any compatible shapes) and return an array of
    the broadcast shape, or a float when every argument is a scalar.

    Attributes:
        set_name: the set's name (its directory).
        member: the member number.
        lhapdf_id: the set's SetIndex + member (-1 when the set has none).
        flavors: sorted parton ids the set declares (``Flavors``).
        x_min, x_max, q_min, q_max: validity range from the metadata (GeV).
        info: the cascaded metadata (member header over set ``.info`` over LHAPDF defaults).
        backend: ``"native"``.

    Example:
        >>> pdf = mkPDF("NNPDF23_lo_as_0130_qed", backend="native")
        >>> round(float(pdf.alphasQ(91.1876)), 4)
        0.13
        >>> pdf.xfxQ(0, 0.01, 100.0) == pdf.xfxQ(21, 0.01, 100.0)
        True
    """

    backend = "native"

    def __init__(self, set_dir: Path, set_name: str, member: int) -> None:
        info_path = set_dir / f"{set_name}.info"
        if not info_path.is_file():
            raise PDFNotFoundError(f"{info_path} not found")
        set_info = parse_info(info_path.read_text())
        mem_path = set_dir / f"{set_name}_{member:04d}.dat"
        if not mem_path.is_file():
            n = set_info.get("NumMembers")
            raise PDFNotFoundError(f"member {member} of {set_name} not found ({mem_path}); the set "
                                   f"declares {n} members" if n else f"{mem_path} not found")
        header, grid = _load_member(str(mem_path), mem_path.stat().st_mtime)
        self.info: dict[str, Any] = {**_LHAPDF_DEFAULTS, **set_info, **header}
        self._grid = grid
        self.set_name = set_name
        self.member = int(member)
        self.path = mem_path
        set_index = self.info.get("SetIndex")
        self.lhapdf_id = int(set_index) + self.member if isinstance(set_index, int) else -1
        self.flavors = sorted(int(p) for p in self.info.get("Flavors", grid.pids.tolist()))
        self.x_min = float(self.info.get("XMin", grid.xs[0]))
        self.x_max = float(self.info.get("XMax", grid.xs[-1]))
        self.q_min = float(self.info.get("QMin", math.sqrt(grid.q2s[0])))
        self.q_max = float(self.info.get("QMax", math.sqrt(grid.q2s[-1])))
        self.mz = float(self.info["MZ"])
        self.force_positive = int(self.info.get("ForcePositive", 0))
        for key, wanted in (("Interpolator", "logcubic"), ("Extrapolator", "continuation")):
            if str(self.info.get(key)).lower() != wanted:
                raise ValueError(f"{set_name}: {key} {self.info.get(key)!r} is not supported by "
                                 f"the native reader (only {wanted!r}); install lhapdf")
        # Column of each pid: pid -> grid column, or -1 when the set does not
        # declare it or the grid lacks it (LHAPDF returns 0 for both).
        grid_column = {int(p): i for i, p in enumerate(grid.pids)}
        declared = {p: grid_column.get(p, -1) for p in self.flavors}
        declared[0] = declared.get(21, -1)
        self._known_pids = np.array(sorted(declared), dtype=np.int64)
        self._known_cols = np.array([declared[p] for p in sorted(declared)], dtype=np.int64)
        self._alphas: LHAPDFAlphaS | None = None

    def __repr__(self) -> str:
        return f"GridPDF({self.set_name!r}, member={self.member})"

    def _columns(self, pid: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self._known_pids, pid)
        pos = np.clip(pos, 0, self._known_pids.size - 1)
        found = self._known_pids[pos] == pid
        return np.where(found, self._known_cols[pos], -1)

    def xfxQ2(self, pid: Any, x: Any, Q2: Any) -> np.ndarray | float:  # noqa: N802, N803
        """x f(x, Q^2) of parton ``pid`` (PDG code; 0 = gluon); Q2 in GeV^2."""
        pid_b, x_b, q2_b, scalar = _broadcast(pid, x, Q2)
        _check_physical(x_b, q2_b)
        flat_pid, flat_x, flat_q2 = pid_b.ravel(), x_b.ravel(), q2_b.ravel()
        cols = self._columns(flat_pid)
        out = np.zeros(flat_x.shape)
        have = cols >= 0
        if have.any():
            out[have] = self._evaluate(cols[have], flat_x[have], flat_q2[have])
        if self.force_positive == 1:
            out = np.maximum(out, 0.0)
        elif self.force_positive == 2:
            out = np.maximum(out, 1e-10)
        out = out.reshape(x_b.shape)
        return float(out) if scalar else out

    def xfxQ(self, pid: Any, x: Any, Q: Any) -> np.ndarray | float:  # noqa: N802, N803
        """x f(x, Q) of parton ``pid``; Q in GeV (squared internally, so Q < 0 acts as |Q|)."""
        q = np.asarray(Q, dtype=np.float64)
        return self.xfxQ2(pid, x, q * q)

    def _evaluate(self, cols: np.ndarray, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
        grid = self._grid
        inside = (x >= grid.xs[0]) & (x <= grid.xs[-1]) & (q2 >= grid.q2s[0]) & (q2 <= grid.q2s[-1])
        out = np.empty(x.shape)
        if inside.all():
            return grid.interpolate(cols, x, q2)
        if inside.any():
            out[inside] = grid.interpolate(cols[inside], x[inside], q2[inside])
        outside = ~inside
        if np.any(x[outside] > grid.xs[-1]):
            raise PDFRangeError(f"x above the last x knot {grid.xs[-1]:g} of {self.set_name}")
        out[outside] = _continuation(grid, cols[outside], x[outside], q2[outside])
        return out

    def alphasQ2(self, Q2: Any) -> np.ndarray | float:  # noqa: N802, N803
        """The set's alpha_s at Q^2 (GeV^2), from its metadata as LHAPDF computes it."""
        if self._alphas is None:
            self._alphas = lhapdf_alphas_from_info(self.info)
        q2 = np.asarray(Q2, dtype=np.float64)
        if np.any(~(q2 >= 0)):
            raise PDFRangeError("alpha_s needs Q2 >= 0")
        out = np.asarray(self._alphas.alphasQ2(q2.ravel())).reshape(q2.shape)
        return float(out) if out.ndim == 0 else out

    def alphasQ(self, Q: Any) -> np.ndarray | float:  # noqa: N802, N803
        """The set's alpha_s at Q (GeV)."""
        q = np.asarray(Q, dtype=np.float64)
        return self.alphasQ2(q * q)

    def hasFlavor(self, pid: int) -> bool:  # noqa: N802 (LHAPDF's name)
        """Whether the set declares parton ``pid`` (0 = gluon)."""
        return (21 if pid == 0 else pid) in self.flavors


class LHAPDFModulePDF:
    """A member loaded by the ``lhapdf`` Python module, with :class:`GridPDF`'s vectorised API.

    LHAPDF's own range errors are re-raised as :class:`PDFRangeError`.
    """

    backend = "lhapdf"

    def __init__(self, module: Any, set_name: str, member: int, search_dirs: Iterable[Path]) -> None:
        for directory in search_dirs:
            if str(directory) not in module.paths():
                module.pathsAppend(str(directory))
        self._pdf = module.mkPDF(set_name, member)
        self.set_name = set_name
        self.member = int(member)
        self.lhapdf_id = int(self._pdf.lhapdfID)
        self.flavors = sorted(int(p) for p in self._pdf.flavors())
        self.x_min, self.x_max = float(self._pdf.xMin), float(self._pdf.xMax)
        self.q_min = math.sqrt(float(self._pdf.q2Min))
        self.q_max = math.sqrt(float(self._pdf.q2Max))
        info = self._pdf.info()
        self.mz = float(info.get_entry("MZ")) if info.has_key("MZ") else 91.1876
        self.info = {"SetDesc": self._pdf.set().description}

    def __repr__(self) -> str:
        return f"LHAPDFModulePDF({self.set_name!r}, member={self.member})"

    def _call(self, fn: Any, *args: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(np.frompyfunc(fn, len(args), 1)(*args), dtype=np.float64)
        except RuntimeError as err:  # LHAPDF's RangeError surfaces as RuntimeError
            raise PDFRangeError(str(err)) from err

    def xfxQ2(self, pid: Any, x: Any, Q2: Any) -> np.ndarray | float:  # noqa: N802, N803
        pid_b, x_b, q2_b, scalar = _broadcast(pid, x, Q2)
        _check_physical(x_b, q2_b)
        out = self._call(lambda p, xx, qq: self._pdf.xfxQ2(int(p), float(xx), float(qq)),
                         pid_b, x_b, q2_b)
        return float(out) if scalar else out

    def xfxQ(self, pid: Any, x: Any, Q: Any) -> np.ndarray | float:  # noqa: N802, N803
        q = np.asarray(Q, dtype=np.float64)
        return self.xfxQ2(pid, x, q * q)

    def alphasQ2(self, Q2: Any) -> np.ndarray | float:  # noqa: N802, N803
        q2 = np.asarray(Q2, dtype=np.float64)
        out = self._call(lambda qq: self._pdf.alphasQ2(float(qq)), q2)
        return float(out) if out.ndim == 0 else out

    def alphasQ(self, Q: Any) -> np.ndarray | float:  # noqa: N802, N803
        q = np.asarray(Q, dtype=np.float64)
        return self.alphasQ2(q * q)

    def hasFlavor(self, pid: int) -> bool:  # noqa: N802
        return bool(self._pdf.hasFlavor(int(pid)))


def _lhapdf_module() -> Any | None:
    try:
        import lhapdf  # type: ignore[import-not-found]
    except ImportError:
        return None
    lhapdf.setVerbosity(0)
    return lhapdf


def mkPDF(name_or_path: str | int | os.PathLike[str] = DEFAULT_PDF_SET, member: int = 0,  # noqa: N802
          backend: str = "auto") -> GridPDF | LHAPDFModulePDF:
    """Load one PDF member, like LHAPDF's ``mkPDF``.

    Args:
        name_or_path: a set name (``"NNPDF23_lo_as_0130_qed"``), ``"name/member"``,
            an LHAPDF ID (``247000``), a set directory, or a member ``.dat`` file.
        member: member number (ignored when the first argument names one).
        backend: ``"auto"`` (the lhapdf module if importable, else native),
            ``"lhapdf"`` or ``"native"``.

    Raises:
        PDFNotFoundError: no such set or member.
        ImportError: ``backend="lhapdf"`` without the module.

    Example:
        >>> mkPDF(247000, backend="native").set_name
        'NNPDF23_lo_as_0130_qed'
    """
    if backend not in ("auto", "lhapdf", "native"):
        raise ValueError(f"backend must be 'auto', 'lhapdf' or 'native', not {backend!r}")
    set_dir, set_name, member = _resolve(name_or_path, member)
    module = _lhapdf_module() if backend in ("auto", "lhapdf") else None
    if module is not None:
        return LHAPDFModulePDF(module, set_name, member, [set_dir.parent] + pdf_search_paths())
    if backend == "lhapdf":
        raise ImportError("backend='lhapdf' needs the lhapdf Python module")
    return GridPDF(set_dir, set_name, member)

