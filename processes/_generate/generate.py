"""Writes the C source and process.json of the generated built-in processes.

Usage (rewrites processes/<name>/ for each name, or writes into DIR/<name>/):

    python processes/_generate/generate.py [--output DIR] [name ...]

The output is deterministic: running it again gives identical files, which
tests/test_matrix_elements.py checks. Each process is described in
``specs.py`` by its subprocess groups (PDG tuples, incoming first) and the
vertex families it may use; diagrams come from ``diagrams.py``, colour from
``color.py``, and the C is written on csrc/helas.h and csrc/umami_process.h.

Example:
    $ python processes/_generate/generate.py ttbar
    processes/ttbar: 9 subprocesses, 3 diagram slots
"""

from __future__ import annotations

import json
import sys

sys.dont_write_bytecode = True  # keep the source tree clean when run from tests
from collections import Counter
from fractions import Fraction
from math import factorial
from pathlib import Path

import numpy as np

import color
from diagrams import VVVV_TERMS, Current, Piece, generate, incoming_pdgs
from model import anti, coupling_declarations, particle
from specs import PROCESSES

__all__ = ["build", "main"]

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- diagrams --

def _internal_lines(piece: Piece):
    """Yields every internal Current of a piece (each off-shell line once)."""
    seen = set()

    def walk(c: Current):
        if c.kind == "ext":
            return
        if id(c) not in seen:
            seen.add(id(c))
            yield c
        for child in c.children:
            yield from walk(child)

    for child in piece.children:
        yield from walk(child)


def _has_cluster(piece: Piece, legs: frozenset, pdg: int, n: int) -> bool:
    everything = frozenset(range(n))
    for c in _internal_lines(piece):
        if abs(c.pdg) == pdg and (c.legs == legs or everything - c.legs == legs):
            return True
    return False


def _fermion_pairs(piece: Piece) -> frozenset:
    """(row leg, column leg) of every fermion line, the fermion-flow signature."""
    pairs = []

    def origin(c: Current) -> int:
        if c.kind == "ext":
            return c.leg
        fermions = [x for x in c.children if particle(x.pdg).spin == "F"]
        return origin(fermions[0])

    def walk(c: Current, extra=()):
        children = tuple(c.children) + tuple(extra)
        fermions = [x for x in children if particle(x.pdg).spin == "F"]
        if c.kind == "ffv" and len(fermions) == 2:
            row = [x for x in fermions if x.pdg < 0][0]
            col = [x for x in fermions if x.pdg > 0][0]
            pairs.append((origin(row), origin(col)))
        for x in c.children:
            if x.kind != "ext":
                walk(x)

    root = Current(frozenset(), 0, piece.kind, piece.children + (piece.root_leg,))
    walk(root)
    return frozenset(pairs)


# ------------------------------------------------------------------ colour --

class _Labels:
    def __init__(self, n_legs: int):
        self.next = n_legs
        self.of = {}

    def line(self, c: Current) -> int:
        if c.kind == "ext":
            return c.leg
        if id(c) not in self.of:
            self.of[id(c)] = self.next
            self.next += 1
        return self.of[id(c)]

    def fresh(self) -> int:
        self.next += 1
        return self.next - 1


def _vertex_color(kind: str, lines: list, term: int, labels: _Labels):
    """Colour factors of one vertex; ``lines`` are (pdg as incoming, label)."""
    factors = []
    if kind == "ffv":
        fermions = [(p, l) for p, l in lines if particle(p).spin == "F"]
        vector = [(p, l) for p, l in lines if particle(p).spin == "V"][0]
        row = [l for p, l in fermions if p < 0][0]
        col = [l for p, l in fermions if p > 0][0]
        if particle(fermions[0][0]).color == 3:
            if vector[0] == 21:
                factors.append((color.T, [vector[1], row, col]))
            else:
                factors.append((np.eye(3), [row, col]))
    elif kind == "vvv":
        factors.append((color.F, [l for _, l in lines]))
    elif kind == "vvvv":
        a, b, c, d = (lines[i][1] for i in VVVV_TERMS[term])
        e = labels.fresh()
        factors.append((color.F, [a, b, e]))
        factors.append((color.F, [c, d, e]))
    return factors


def _piece_color(piece: Piece, n: int, colored: list) -> np.ndarray:
    labels = _Labels(n)
    factors = []

    def walk(c: Current):
        if c.kind == "ext":
            return
        lines = [(x.pdg, labels.line(x)) for x in c.children] + [(anti(c.pdg), labels.line(c))]
        factors.extend(_vertex_color(c.kind, lines, c.term, labels))
        for x in c.children:
            walk(x)

    lines = [(x.pdg, labels.line(x)) for x in piece.children] + [(piece.root_leg.pdg, piece.root_leg.leg)]
    factors.extend(_vertex_color(piece.kind, lines, piece.term, labels))
    for x in piece.children:
        walk(x)
    operands = []
    for tensor, axes in factors:
        operands.extend([tensor.astype(complex), axes])
    if not operands:
        return np.ones(())
    return np.einsum(*operands, colored)


def _lhe_flow(description, ext: tuple, n_incoming: int) -> list:
    """LHE [colour, anticolour] tags per leg of one basis element."""
    tags = [[0, 0] for _ in ext]  # as if every leg were incoming
    tag = 501
    kind, data = description
    if kind == "chains":
        for row, gluons, col in data:
            # col.colour = g_k.anticolour, g_m.colour = g_{m-1}.anticolour, g_1.colour = row.anticolour
            sequence = [col] + list(reversed(gluons)) + [row]
            for left, right in zip(sequence[:-1], sequence[1:]):
                tags[left][0] = tag
                tags[right][1] = tag
                tag += 1
    else:
        seq = list(data)
        for m in range(len(seq)):
            tags[seq[m]][0] = tag
            tags[seq[m - 1]][1] = tag
            tag += 1
    return [t if i < n_incoming else [t[1], t[0]] for i, t in enumerate(tags)]


# ----------------------------------------------------------------------- C --

def _c_number(x: Fraction) -> str:
    if x.denominator == 1:
        return f"{x.numerator}.0"
    return f"({x.numerator}.0 / {x.denominator}.0)"


def _c_term(re: Fraction, im: Fraction, amp: str) -> str:
    """``(re + i im) * amp`` as a signed C term, e.g. ``- I * amp[1]``."""
    if im == 0 or re == 0:
        value, unit = (re, "") if im == 0 else (im, "I * ")
        sign = "-" if value < 0 else "+"
        magnitude = abs(value)
        factor = "" if magnitude == 1 else f"{_c_number(magnitude)} * "
        return f"{sign} {unit}{factor}{amp}"
    return f"+ ({_c_number(re)} + {_c_number(im)} * I) * {amp}"


class _Emitter:
    def __init__(self, n: int, incoming: int, pdgs: tuple):
        self.n = n
        self.incoming = incoming
        self.pdgs = pdgs
        self.ext = incoming_pdgs(pdgs, incoming)
        self.lines: list[str] = []
        self.wave_of: dict = {}
        self.n_waves = 0
        self.couplings: set[str] = set()

    def external(self) -> list[str]:
        """Statements filling ext[i][0] (helicity -1) and ext[i][1] (+1) of every leg."""
        lines = []
        for i, pdg in enumerate(self.ext):
            part = particle(pdg)
            inc = i < self.incoming
            if part.spin == "F":
                call, nsf = ("ixxxxx", 1 if inc else -1) if pdg > 0 else ("oxxxxx", -1 if inc else 1)
            else:
                call, nsf = "vxxxxx", -1 if inc else 1
            lines.append(f"{call}(p[{i}], {part.mass}, -1, {nsf:+d}, &ext[{i}][0]);")
            lines.append(f"{call}(p[{i}], {part.mass}, +1, {nsf:+d}, &ext[{i}][1]);")
            if part.spin == "V":
                lines.append(f"if (ctx->gauge_probe_leg == {i + 1}) {{")
                lines.append(f"    helas_gauge_probe(&ext[{i}][0]);")
                lines.append(f"    helas_gauge_probe(&ext[{i}][1]);")
                lines.append("}")
        return lines

    def _width(self, c: Current) -> str:
        part = particle(c.pdg)
        if part.width == "0.0":
            return "0.0"
        t_channel = len(c.legs & set(range(self.incoming))) == 1 and self.incoming == 2
        return f"TCHANNEL_WIDTH(ctx, {part.width})" if t_channel else part.width

    def wave(self, c: Current) -> str:
        """C pointer expression of the wavefunction of ``c``, emitting its
        computation (into the helicity cache) on first use."""
        if c.kind == "ext":
            return f"e{c.leg}"
        if c in self.wave_of:
            return self.wave_of[c]
        args = [self.wave(x) for x in c.children]
        index = len(self.wave_of)
        legs = sorted(c.legs)
        slot_expr = " + ".join([str(self.n_waves)] + [f"{1 << k} * b{leg}" if k else f"b{leg}"
                                                       for k, leg in enumerate(legs)])
        self.n_waves += 1 << len(legs)
        self.lines.append(f"const int s{index} = {slot_expr};")
        self.lines.append(f"if (!cache->valid[s{index}]) {{")
        name = f"&cache->wave[s{index}]"
        start = len(self.lines)
        part = particle(c.pdg)
        mass, width = part.mass, self._width(c)
        self.couplings.update(c.couplings)
        if c.kind == "ffv":
            gl, gr = c.couplings
            kids = list(c.children)
            if part.spin == "V":
                row = [x for x in kids if x.pdg < 0][0]
                col = [x for x in kids if x.pdg > 0][0]
                self.lines.append(f"ffv_vector_current({self.wave(row)}, {self.wave(col)}, {gl}, {gr}, "
                                  f"{mass}, {width}, {name});")
            else:
                f = [x for x in kids if particle(x.pdg).spin == "F"][0]
                v = [x for x in kids if particle(x.pdg).spin == "V"][0]
                call = "ffv_in_current" if f.pdg > 0 else "ffv_out_current"
                self.lines.append(f"{call}({self.wave(f)}, {self.wave(v)}, {gl}, {gr}, {mass}, {width}, {name});")
        elif c.kind == "vvv":
            self.lines.append(f"vvv_current({args[0]}, {args[1]}, gs, {mass}, {width}, {name});")
        elif c.kind == "vvvv":
            a, b, cc, d = self._vvvv_order(args + [None], c.term)
            self.lines.append(f"vvvv_current({a}, {b}, {cc}, gs, {mass}, {width}, {name});")
        for k in range(start, len(self.lines)):
            self.lines[k] = "    " + self.lines[k]
        self.lines.append(f"    cache->valid[s{index}] = 1;")
        self.lines.append("}")
        self.lines.append(f"const HelasWave* w{index} = {name};")
        self.wave_of[c] = f"w{index}"
        return self.wave_of[c]

    @staticmethod
    def _vvvv_order(items: list, term: int):
        """The term's leg order (a, b, c, d) with the off-shell leg (None) last,
        using f^{abe} f^{cde} L(a,b;c,d) = (c,d,a,b) = (a,b,d,c) up to a common sign."""
        a, b, c, d = (items[i] for i in VVVV_TERMS[term])
        if a is None or b is None:
            a, b, c, d = c, d, a, b
        if c is None:
            c, d = d, c
        return a, b, c, d

    def amplitude(self, piece: Piece) -> str:
        args = [self.wave(x) for x in piece.children]
        self.couplings.update(piece.couplings)
        root = f"e{piece.root_leg.leg}"
        if piece.kind == "ffv":
            gl, gr = piece.couplings
            everyone = list(piece.children) + [piece.root_leg]
            waves = args + [root]
            row = [w for x, w in zip(everyone, waves) if particle(x.pdg).spin == "F" and x.pdg < 0][0]
            col = [w for x, w in zip(everyone, waves) if particle(x.pdg).spin == "F" and x.pdg > 0][0]
            vec = [w for x, w in zip(everyone, waves) if particle(x.pdg).spin == "V"][0]
            return f"ffv_amplitude({row}, {col}, {vec}, {gl}, {gr})"
        if piece.kind == "vvv":
            return f"vvv_amplitude({args[0]}, {args[1]}, {root}, gs)"
        a, b, c, d = ((list(args) + [root])[i] for i in VVVV_TERMS[piece.term])
        return f"vvvv_amplitude({a}, {b}, {c}, {d}, gs)"


def _iden(pdgs: tuple, incoming: int) -> int:
    value = 1
    for p in pdgs[:incoming]:
        value *= 2 * particle(p).color  # two helicities for every incoming parton / lepton here
    for count in Counter(pdgs[incoming:]).values():
        value *= factorial(count)
    return value


def build(name: str, out_dir: Path) -> None:
    spec = PROCESSES[name]
    incoming = 2
    groups_json = []
    flavor_functions = []
    flavor_tables = []
    flavor_index = 0
    n_diagrams = 0
    max_colors = 1
    cache_waves = 1
    n_external = None
    masses_expr = None
    for group in spec["groups"]:
        group_keys = None
        group_diagrams_json = None
        subprocesses_json = []
        for pdgs in group:
            n = len(pdgs)
            n_external = n_external or n
            assert n == n_external
            pieces = generate(pdgs, incoming, spec["families"])
            if "require_clusters" in spec:
                pieces = [p for p in pieces
                          if all(_has_cluster(p, frozenset(legs), pdg, n) for legs, pdg in spec["require_clusters"])]
            keys = list(dict.fromkeys(p.key for p in pieces))
            if len({_fermion_pairs(p) for p in pieces}) > 1:
                raise ValueError(f"{pdgs}: diagrams with different fermion pairings need relative signs")
            # diagram identity across a group: the structure with flavours abstracted
            signature = [_diagram_signature(pieces, k) for k in keys]
            if group_keys is None:
                group_keys = signature
                group_diagrams_json = [_diagram_json(pieces, k, number + 1, n, incoming)
                                       for number, k in enumerate(keys)]
            elif signature != group_keys:
                raise ValueError(f"{pdgs}: diagrams differ from the group's first subprocess")
            number_of = {k: i for i, k in enumerate(keys)}

            # colour
            ext = incoming_pdgs(pdgs, incoming)
            colored = [i for i, p in enumerate(ext) if particle(p).color != 1]
            cols = [i for i in colored if particle(ext[i]).color == 3 and ext[i] > 0]
            rows = [i for i in colored if particle(ext[i]).color == 3 and ext[i] < 0]
            gluons = [i for i in colored if particle(ext[i]).color == 8]
            candidates = color.basis(cols, rows, gluons)
            tensors = [_piece_color(p, n, colored) for p in pieces]
            used, coeffs, cf = color.decompose(tensors, [c[0] for c in candidates])
            flows = [_lhe_flow(candidates[k][1], ext, incoming) for k in used]
            max_colors = max(max_colors, len(used))

            # C function
            em = _Emitter(n, incoming, pdgs)
            external_lines = em.external()
            amp_lines = []
            for j, piece in enumerate(pieces):
                amp_lines.append(f"amp[{j}] = {em.amplitude(piece)};")
            body = ["const SmParameters* sm = ctx->sm;", "const double gs = ctx->gs;", "(void)sm;", "(void)gs;"]
            body += coupling_declarations(em.couplings)
            body += [f"const int b{i} = hel[{i}] > 0;" for i in range(n)]
            body += [f"const HelasWave* e{i} = &ext[{i}][b{i}];" for i in range(n)]
            cache_waves = max(cache_waves, em.n_waves)
            body.append(f"double complex amp[{len(pieces)}];")
            body += em.lines + amp_lines
            for k in range(len(used)):
                terms = []
                for j in range(len(pieces)):
                    re, im = coeffs[j][k]
                    if re == 0 and im == 0:
                        continue
                    terms.append(_c_term(re, im, f"amp[{j}]"))
                text = " ".join(terms).lstrip("+ ") if terms else "0.0"
                if text.startswith("- "):
                    text = "-" + text[2:]
                body.append(f"jamp[{k}] = {text};")
            for j, piece in enumerate(pieces):
                if not piece.has_four_point():
                    d = number_of[piece.key]
                    body.append(f"amp2[{d}] += creal(amp[{j}] * conj(amp[{j}]));")
            fname = f"amplitudes_{flavor_index}"
            xname = f"external_{flavor_index}"
            flavor_functions.append(
                f"static void {xname}(const ProcessContext* ctx, const double (*p)[4], HelasWave (*ext)[2])\n{{\n"
                + "\n".join("    " + line for line in ["const SmParameters* sm = ctx->sm;", "(void)sm;"] + external_lines) + "\n}\n")
            flavor_functions.append(
                f"/* {' '.join(particle(p).name + ('~' if p < 0 and not particle(p).self_conjugate else '') if abs(p) != 24 else ('w+' if p > 0 else 'w-') for p in pdgs)} */\n"
                f"static void {fname}(const ProcessContext* ctx, HelasWave (*ext)[2], ProcessCache* cache,\n"
                f"{' ' * (len(fname) + 13)}const int* hel, double complex* jamp, double* amp2)\n{{\n"
                + "\n".join("    " + line for line in body) + "\n}\n")
            cf_c = ", ".join(_c_number(v) for row in cf for v in row)
            has_channel = [0] * 64
            for k in keys:
                if not any(p.has_four_point() for p in pieces if p.key == k):
                    has_channel[number_of[k]] = 1
            flavor_tables.append((flavor_index, len(used), cf_c, _iden(pdgs, incoming), has_channel, len(keys)))
            n_diagrams = max(n_diagrams, len(keys))
            subprocesses_json.append({"flavor_index": flavor_index, "pdg": list(pdgs), "mg_process_id": 1,
                                      "color_flows": flows})
            masses = [particle(p).mass for p in pdgs]
            masses_expr = masses_expr or masses
            assert masses == masses_expr
            flavor_index += 1
        groups_json.append({"subprocesses": subprocesses_json, "diagrams": group_diagrams_json})

    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    _write_c(folder, name, spec, n_external, incoming, flavor_index, n_diagrams, max_colors, cache_waves,
             masses_expr, flavor_functions, flavor_tables)
    _write_json(folder, name, spec, n_external, incoming, groups_json)
    print(f"{folder}: {flavor_index} subprocesses, {n_diagrams} diagram slots")


def _diagram_signature(pieces: list, key) -> tuple:
    p = [x for x in pieces if x.key == key][0]
    out = []

    def walk(c: Current):
        if c.kind == "ext":
            return
        out.append((tuple(sorted(c.legs)), abs(c.pdg) if abs(c.pdg) in (21, 22, 23, 24) else "f", c.kind))
        for x in c.children:
            walk(x)

    for x in p.children:
        walk(x)
    return (p.kind, tuple(out))


def _diagram_json(pieces: list, key, number: int, n: int, incoming: int) -> dict:
    """The diagram as configs.inc writes it (see docs/architecture.md)."""
    group = [x for x in pieces if x.key == key]
    four_point = any(x.has_four_point() for x in group)
    if four_point:
        return {"number": number, "four_point": True, "propagators": []}
    piece = group[0]
    # undirected tree: vertices are currents (by id) and the root vertex
    adjacency: dict = {}
    root = "root"

    def connect(u, v, line):
        adjacency.setdefault(u, []).append((v, line))
        adjacency.setdefault(v, []).append((u, line))

    def walk(c: Current, consumer):
        if c.kind == "ext":
            connect(("leg", c.leg), consumer, c)
            return
        connect(id(c), consumer, c)
        for x in c.children:
            walk(x, id(c))

    for x in piece.children:
        walk(x, root)
    connect(("leg", piece.root_leg.leg), root, piece.root_leg)
    # the producer side of a line is the side holding line.legs

    def particle_towards(line: Current, from_node, to_node) -> int:
        """pdg of the particle travelling along ``line`` from ``from_node`` to ``to_node``."""
        producer = ("leg", line.leg) if line.kind == "ext" else id(line)
        # a current's particle travels from its producer to its consumer
        return line.pdg if from_node == producer else anti(line.pdg)

    def path(a, b):
        stack = [(a, [a])]
        while stack:
            node, trail = stack.pop()
            if node == b:
                return trail
            for nxt, _ in adjacency[node]:
                if nxt not in trail:
                    stack.append((nxt, trail + [nxt]))
        raise ValueError("disconnected diagram")

    props = []

    def cluster(node, parent) -> int:
        """Id of the subtree at ``node`` seen from ``parent`` (final-state legs only)."""
        if isinstance(node, tuple) and node[0] == "leg":
            return node[1] + 1
        daughters = []
        line_in = None
        for nxt, line in adjacency[node]:
            if nxt == parent:
                line_in = line
                continue
            daughters.append(cluster(nxt, node))
        ident = -(len(props) + 1)
        props.append({"id": ident, "type": "s", "daughters": sorted(daughters, key=lambda d: (d < 0, abs(d))),
                      "pdg": particle_towards(line_in, parent, node)})
        return ident

    trail = path(("leg", 0), ("leg", 1))
    vertices = trail[1:-1]
    branches = []
    for k, v in enumerate(vertices):
        prev_node, next_node = trail[k], trail[k + 2]
        off = [nxt for nxt, _ in adjacency[v] if nxt not in (prev_node, next_node)]
        branches.append([cluster(o, v) for o in off])
    if len(vertices) >= 2:
        current = 1
        for k, v in enumerate(vertices):
            ident = -(len(props) + 1)
            if k < len(vertices) - 1:
                line = [line for nxt, line in adjacency[v] if nxt == trail[k + 2]][0]
                pdg = particle_towards(line, v, trail[k + 2])
            else:
                pdg = 0
            props.append({"id": ident, "type": "t", "daughters": [current, branches[k][0]], "pdg": pdg})
            current = ident
    return {"number": number, "four_point": False, "propagators": props}


def _write_c(folder, name, spec, n_external, incoming, n_flavors, n_diagrams, max_colors, cache_waves, masses,
             functions, tables):
    lines = [
        "/*",
        f" * {name}.c -- {spec['description']} (MadGraph `sm` model), UMAMI 1.1.",
        " *",
        " * GENERATED by processes/_generate/generate.py from processes/_generate/specs.py;",
        " * do not edit by hand: change the generator and run it again.",
        " * Helicity amplitudes on csrc/helas.h; boilerplate in csrc/umami_process.h.",
        " */",
        f"#define PROCESS_N_EXTERNAL {n_external}",
        f"#define PROCESS_N_INCOMING {incoming}",
        f"#define PROCESS_N_FLAVORS {n_flavors}",
        f"#define PROCESS_N_DIAGRAMS {n_diagrams}",
        f"#define PROCESS_MAX_COLORS {max_colors}",
        f"#define PROCESS_CACHE_WAVES {cache_waves}",
        f"#define PROCESS_FINGERPRINT \"madnis-plugin/{name}/{spec['version']}\"",
        "#include \"umami_process.h\"",
        "",
        "static void process_masses(const SmParameters* sm, double* masses)",
        "{",
        "    (void)sm;",
    ]
    lines += [f"    masses[{i}] = {m};" for i, m in enumerate(masses)]
    lines += ["}", ""]
    lines += functions
    for index, n_colors, cf_c, iden, has_channel, _ in tables:
        lines.append(f"static const double color_matrix_{index}[{n_colors * n_colors}] = {{{cf_c}}};")
        lines.append(f"static const unsigned char has_channel_{index}[{n_diagrams}] = "
                     f"{{{', '.join(str(x) for x in has_channel[:n_diagrams])}}};")
    lines.append("")
    lines.append("static const ProcessFlavor flavors[PROCESS_N_FLAVORS] = {")
    for index, n_colors, _, iden, _, _ in tables:
        lines.append(f"    {{{n_colors}, color_matrix_{index}, {iden}.0, has_channel_{index}}},")
    lines += ["};", "", "static const ProcessFlavor* process_flavor(int flavor)", "{",
              "    return &flavors[flavor];", "}", "",
              "static void process_external(const ProcessContext* ctx, int flavor, const double (*p)[4],",
              "                             HelasWave (*ext)[2])", "{",
              "    switch (flavor) {"]
    for index in range(n_flavors):
        lines.append(f"    case {index}: external_{index}(ctx, p, ext); break;")
    lines += ["    default: break;", "    }", "}", "",
              "static void process_amplitudes(const ProcessContext* ctx, int flavor, HelasWave (*ext)[2],",
              "                               ProcessCache* cache, const int* hel, double complex* jamp,",
              "                               double* amp2)", "{",
              "    switch (flavor) {"]
    for index in range(n_flavors):
        lines.append(f"    case {index}: amplitudes_{index}(ctx, ext, cache, hel, jamp, amp2); break;")
    lines += ["    default: break;", "    }", "}", ""]
    (folder / f"{name}.c").write_text("\n".join(lines))


def _compact_json(value, indent: int = 0) -> str:
    """JSON with lists of scalars (and lists of such lists) kept on one line."""
    pad = "  " * indent
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) or
                                       (isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))
                                       for v in value.values()):
        return pad + json.dumps(value, separators=(", ", ": "))
    if isinstance(value, dict):
        items = [f'{pad}  {json.dumps(k)}: {_compact_json(v, indent + 1).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
        return pad + "[\n" + ",\n".join(_compact_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return pad + json.dumps(value, separators=(", ", ": "))


def _write_json(folder, name, spec, n_external, incoming, groups):
    import itertools
    data = {
        "name": name,
        "description": spec["description"],
        "mg5_process": spec["mg5_process"],
        **({"onshell_resonances": spec["onshell_resonances"]} if "onshell_resonances" in spec else {}),
        "sources": [f"{name}.c"],
        "collider": spec["collider"],
        "n_incoming": incoming,
        "n_external": n_external,
        "groups": groups,
        "helicities": [list(h) for h in itertools.product((-1, 1), repeat=n_external)],
        "generated_by": "processes/_generate/generate.py",
    }
    (folder / "process.json").write_text(_compact_json(data) + "\n")


def main(argv: list[str]) -> int:
    out_dir = ROOT / "processes"
    if argv[:1] == ["--output"]:
        if len(argv) < 2:
            print("--output needs a folder", file=sys.stderr)
            return 2
        out_dir, argv = Path(argv[1]), argv[2:]
    names = argv or list(PROCESSES)
    for name in names:
        if name not in PROCESSES:
            print(f"unknown process {name!r}; known: {', '.join(PROCESSES)}", file=sys.stderr)
            return 2
    for name in names:
        build(name, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
