"""Diagram topologies: a propagator list (process.json / configs.inc) as a tree.

A diagram's ``propagators`` follow MadEvent's ``configs.inc``: entries ``-1, -2, ...``
with two ``daughters`` each (positive = external leg, 1-based; negative = an
earlier entry); ``type: "s"`` entries (built from final-state legs) first, then
the t-channel chain starting at an incoming leg (``[1, X]``, then ``[-k, Y]``, ...).
The chain's last entry may join incoming leg 2 (as configs.inc writes it) or be
left out; both read the same.

:class:`Topology` is what a channel map needs: the final state cut into
*blocks* (an external leg or an s-channel subtree) ordered along the t-channel
chain, and the particles exchanged between consecutive blocks. A diagram
without a t-channel chain has a single block, the s-channel tree of the whole
final state.

Example:
    >>> from madnis_plugin.phasespace.topology import parse_diagram
    >>> topo = parse_diagram({"propagators": [
    ...     {"id": -1, "type": "t", "daughters": [1, 3], "pdg": 21},
    ...     {"id": -2, "type": "t", "daughters": [-1, 4], "pdg": 0}]}, n_external=4)
    >>> [b.legs for b in topo.blocks], topo.t_pdgs
    ([(3,), (4,)], (21,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

__all__ = ["Node", "Topology", "parse_diagram", "flat_topology", "flat_chain"]


@dataclass(frozen=True)
class Node:
    """A final-state subsystem: an external leg or the two-body decay of a propagator.

    Attributes:
        legs: the external final-state legs (1-based, sorted) the node contains.
        children: the two daughter nodes, or None for an external leg.
        pdg: the propagating particle (0 for none: a leg's own id is not stored).
        flat_power: set on the synthetic nodes of a flat decay chain, the
            exponent of their :class:`~madnis_plugin.phasespace.invariants.RamboDiet`
            invariant; None for propagators of the diagram.
    """

    legs: tuple[int, ...]
    children: tuple["Node", "Node"] | None = None
    pdg: int = 0
    flat_power: int | None = None

    @property
    def is_leg(self) -> bool:
        """True for an external leg."""
        return self.children is None

    def internal_nodes(self) -> list["Node"]:
        """This node and all nodes below it that are not legs, parents before children."""
        if self.children is None:
            return []
        return [self, *self.children[0].internal_nodes(), *self.children[1].internal_nodes()]


@dataclass(frozen=True)
class Topology:
    """The phase-space structure of one channel.

    Attributes:
        blocks: final-state blocks; with a t-channel chain, ordered from the
            incoming leg ``t_from`` to the other one, else a single block holding
            the whole final state.
        t_pdgs: the ``len(blocks) - 1`` particles exchanged along the chain
            (empty without a chain); ``t_pdgs[j]`` carries ``p_{t_from} - X_1 - ... - X_{j+1}``.
        t_from: the incoming leg (1 or 2) the chain starts from.
    """

    blocks: tuple[Node, ...]
    t_pdgs: tuple[int, ...] = ()
    t_from: int = 1

    @property
    def has_t_channel(self) -> bool:
        """True if the final state is built along a t-channel chain."""
        return len(self.t_pdgs) > 0

    def reversed(self) -> "Topology":
        """The same diagram with its t-channel chain built from the other incoming leg.

        Example:
            >>> topo = parse_diagram([{"id": -1, "type": "t", "daughters": [1, 3], "pdg": 6},
            ...                       {"id": -2, "type": "t", "daughters": [-1, 4], "pdg": 21}], 5)
            >>> back = topo.reversed()
            >>> [b.legs for b in back.blocks], back.t_pdgs, back.t_from
            ([(5,), (4,), (3,)], (21, 6), 2)
        """
        if not self.has_t_channel:
            return self
        return Topology(blocks=self.blocks[::-1], t_pdgs=self.t_pdgs[::-1], t_from=3 - self.t_from)


def flat_chain(elements: Sequence[Node]) -> Node:
    """Nest ``elements`` into a decay chain ``Q0 -> e1 Q1, Q1 -> e2 Q2, ...`` of RAMBO-on-diet nodes."""
    if len(elements) == 1:
        return elements[0]
    rest = flat_chain(elements[1:])
    legs = tuple(sorted(elements[0].legs + rest.legs))
    return Node(legs=legs, children=(elements[0], rest), pdg=0, flat_power=len(elements) - 2)


def flat_topology(n_external: int) -> Topology:
    """The flat single-channel topology: all final-state legs in one RAMBO-on-diet chain."""
    if n_external < 4:
        raise ValueError("a flat topology needs at least two final-state particles")
    return Topology(blocks=(flat_chain([Node(legs=(leg,)) for leg in range(3, n_external + 1)]),))


def _propagator_list(diagram: Any) -> list[Mapping[str, Any]]:
    if hasattr(diagram, "to_dict"):  # a process.Diagram record
        diagram = diagram.to_dict()
    if isinstance(diagram, Mapping):
        return list(diagram.get("propagators", []))
    return list(diagram)


def parse_diagram(diagram: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None, n_external: int) -> Topology:
    """Build the :class:`Topology` of a diagram (a process.json diagram, its propagator list,
    or any record with a ``to_dict()`` giving the former).

    ``None`` (or an empty list) gives :func:`flat_topology`. Final-state legs no
    propagator mentions become blocks of their own; several blocks without a
    t-channel chain are joined by a flat chain.

    Raises:
        ValueError: if the propagators do not form a tree over the final state.
    """
    if diagram is None:
        return flat_topology(n_external)
    entries = _propagator_list(diagram)
    if not entries:
        return flat_topology(n_external)
    final_legs = set(range(3, n_external + 1))
    nodes: dict[int, Node] = {}
    used: set[int] = set()
    chain: list[tuple[int, Mapping[str, Any]]] = []

    def daughter_node(d: int) -> Node:
        if d > 0:
            if d not in final_legs:
                raise ValueError(f"s-channel daughter {d} is not a final-state leg")
            return Node(legs=(d,))
        if d not in nodes:
            raise ValueError(f"propagator {d} used before it is defined")
        return nodes[d]

    for entry in entries:
        ident = int(entry["id"])
        daughters = [int(d) for d in entry["daughters"]]
        if len(daughters) != 2:
            raise ValueError(f"propagator {ident}: need two daughters, got {daughters}")
        if str(entry.get("type", "s")).lower() == "t":
            chain.append((ident, entry))
            continue
        a, b = (daughter_node(d) for d in daughters)
        if set(a.legs) & set(b.legs):
            raise ValueError(f"propagator {ident}: daughters overlap")
        used.update(daughters)
        nodes[ident] = Node(legs=tuple(sorted(a.legs + b.legs)), children=(a, b), pdg=int(entry.get("pdg", 0)))

    top = [node for ident, node in nodes.items() if ident not in used]
    top += [Node(legs=(leg,)) for leg in sorted(final_legs) if leg not in used]
    covered = sorted(leg for node in top for leg in node.legs)
    if covered != sorted(final_legs):
        raise ValueError(f"blocks {[n.legs for n in top]} do not cover the final state exactly once")
    by_key = {node.legs: node for node in top}

    if not chain:
        return Topology(blocks=(flat_chain(top),))

    t_from = 1
    first = [int(d) for d in chain[0][1]["daughters"]]
    if 2 in first and 1 not in first:
        t_from = 2
    previous: int | None = None
    ordered: list[Node] = []
    t_pdgs: list[int] = []
    for ident, entry in chain:
        daughters = [int(d) for d in entry["daughters"]]
        link = t_from if previous is None else previous
        if link not in daughters:
            raise ValueError(f"t-channel entry {ident} does not continue the chain: {daughters}")
        other = daughters[1] if daughters[0] == link else daughters[0]
        previous = ident
        if other in (1, 2):
            continue  # the closing entry written as joining the other incoming leg
        emitted = Node(legs=(other,)) if other > 0 else nodes.get(other)
        if emitted is None or emitted.legs not in by_key:
            raise ValueError(f"t-channel entry {ident} emits {other}, which is not a final-state block")
        ordered.append(by_key[emitted.legs])
        t_pdgs.append(int(entry.get("pdg", 0)))
    remaining = [node for node in top if node not in ordered]
    if len(remaining) > 1 or len(set(n.legs for n in ordered)) != len(ordered):
        raise ValueError("the t-channel chain leaves more than one block or emits one twice")
    if remaining:
        ordered.append(remaining[0])
    else:
        t_pdgs.pop()  # the last entry emitted the block attached to the other incoming leg
    if len(ordered) < 2:
        return Topology(blocks=(flat_chain(ordered),))
    return Topology(blocks=tuple(ordered), t_pdgs=tuple(t_pdgs[: len(ordered) - 1]), t_from=t_from)
