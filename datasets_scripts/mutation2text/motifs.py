"""
Functional motifs, found by rules on a sequence (so a motif arising by chance counts as much as a planted one):

    C2H2 zinc finger     C-x2-C-x12-H-x3-H; the two Cys and two His coordinate zinc
    catalytic triad      the serine-protease triad His (in AAHC) ... Asp (in DIAL) ... Ser (in GDSGG), in that order
    N-glycosylation      the sequon N-X-S/T with X not proline; the Asn carries the glycan
    signal peptide       N-terminal M, 1-3 Lys/Arg, then a hydrophobic core of 8-12 of L/A/V/I/F

A substitution hits a motif when the motif no longer holds in the mutant at that place: a coordinating residue
changed, the sequon's Asn or its Ser/Thr changed (Thr -> Ser keeps it), its middle residue made a proline; for the
signal peptide, a charged residue or proline put into the hydrophobic core.
"""

import re
from dataclasses import dataclass

_ZINC_FINGER = re.compile(r"(?=(C..C.{12}H...H))")
_SEQUON = re.compile(r"(?=(N[^P][ST]))")
_SIGNAL = re.compile(r"^M[KR]{1,3}([LAVIF]{8,12})")


@dataclass(frozen=True)
class Motif:
    kind: str            # "zinc finger" | "catalytic triad" | "glycosylation" | "signal peptide"
    positions: tuple     # 1-based key positions
    roles: tuple         # per position, what it does (for the description)


def find_motifs(sequence: str) -> list:
    motifs = []
    for match in _ZINC_FINGER.finditer(sequence):
        start = match.start() + 1
        positions = (start, start + 3, start + 16, start + 20)
        motifs.append(Motif("zinc finger", positions, ("zinc-coordinating cysteine",) * 2 + ("zinc-coordinating histidine",) * 2))
    his, asp, ser = sequence.find("AAHC"), sequence.find("DIAL"), sequence.find("GDSGG")
    if -1 < his < asp < ser:
        motifs.append(Motif("catalytic triad", (his + 3, asp + 1, ser + 3),
                            ("catalytic histidine", "catalytic aspartate", "nucleophilic serine")))
    for match in _SEQUON.finditer(sequence):
        start = match.start() + 1
        motifs.append(Motif("glycosylation", (start, start + 1, start + 2),
                            ("glycosylated asparagine", "sequon middle residue", "sequon serine/threonine")))
    signal = _SIGNAL.match(sequence)
    if signal:
        core = tuple(range(signal.start(1) + 1, signal.end(1) + 1))
        motifs.append(Motif("signal peptide", core, ("hydrophobic core residue",) * len(core)))
    return motifs


def motif_hit(wild_type: str, position: int, mutant_residue: str, motifs=None):
    """(motif, role) the substitution at 1-based `position` breaks, or None."""
    for motif in find_motifs(wild_type) if motifs is None else motifs:
        if position not in motif.positions:
            continue
        role = motif.roles[motif.positions.index(position)]
        if motif.kind == "signal peptide":
            broken = mutant_residue in "DEKRP"
        elif motif.kind == "glycosylation":
            offset = position - motif.positions[0]
            broken = (mutant_residue != "N", mutant_residue == "P", mutant_residue not in "ST")[offset]
        else:
            broken = True  # coordinating / catalytic residue replaced
        if broken:
            return motif, role
    return None
