"""
Metal-binding motifs as (segment, coordinating offsets) generators, their decoys, and the regex baseline's patterns.

    ZN  C2H2 zinc finger   [FY]-x-C-x(2,4)-C-x3-F-x5-L-x2-H-x(3,5)-H   C, C, H, H   (x12 between C and H)
    ZN  treble clef        C-x2-C-x(9,18)-C-x2-C                         four C
    CA  EF-hand loop       D-x-[DN]-x-[DNS]-G-x-[ILV]-x-x-x-E            positions 1, 3, 5, 7, 9, 12 of the loop
    MG  DDxxD              D-D-x-x-D (terpene-synthase-like)             D1, D2, D5
    MG  HAD motif I        D-x-D-x-[TV]                                  D1, D3
"""

import re

import numpy as np

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
# UniProt background composition (%), in AMINO_ACIDS order.
BACKGROUND = np.array([8.25, 1.37, 5.45, 6.75, 3.86, 7.07, 2.27, 5.96, 5.84, 9.66, 2.42, 4.06, 4.70, 3.93, 5.53, 6.56,
                       5.34, 6.87, 1.08, 2.92])
BACKGROUND = BACKGROUND / BACKGROUND.sum()
HELIX = "AELKRQMAELKK"  # residues favoured in the EF-hand's flanking helices


def random_residues(rng, n: int, exclude: str = "") -> str:
    probs = BACKGROUND.copy()
    for aa in exclude:
        probs[AMINO_ACIDS.index(aa)] = 0
    probs /= probs.sum()
    return "".join(rng.choice(list(AMINO_ACIDS), size=n, p=probs))


def _filler(rng, n: int) -> str:
    """Spacer residues that never create a coordinating residue by chance (no C, H, D, E)."""
    return random_residues(rng, n, exclude="CHDE")


def c2h2(rng) -> tuple:
    gap_cc = rng.choice([2, 4], p=[0.8, 0.2])
    gap_hh = rng.choice([3, 4, 5], p=[0.7, 0.2, 0.1])
    parts = [rng.choice(["F", "Y"]), _filler(rng, 1), "C", _filler(rng, gap_cc), "C", _filler(rng, 3), "F", _filler(rng, 5),
             "L", _filler(rng, 2), "H", _filler(rng, gap_hh), "H"]
    segment = "".join(parts)
    first_c = 2
    second_c = first_c + gap_cc + 1
    first_h = second_c + 13
    return segment, [first_c, second_c, first_h, first_h + gap_hh + 1], "ZN", "zn_c2h2"


def treble_clef(rng) -> tuple:
    gap = int(rng.integers(9, 19))
    segment = "C" + _filler(rng, 2) + "C" + _filler(rng, gap) + "C" + _filler(rng, 2) + "C"
    return segment, [0, 3, 4 + gap, 7 + gap], "ZN", "zn_treble_clef"


def ef_hand(rng) -> tuple:
    loop = ["D", _filler(rng, 1), rng.choice(["D", "N"]), _filler(rng, 1), rng.choice(["D", "N", "S"]), "G",
            _filler(rng, 1), rng.choice(["I", "L", "V"]), _filler(rng, 1), rng.choice(["S", "T", "D"]), _filler(rng, 1), "E"]
    helix_in = "".join(rng.choice(list(HELIX), size=6))
    helix_out = "".join(rng.choice(list(HELIX.replace("E", "")), size=6))
    return helix_in + "".join(loop) + helix_out, [6 + p for p in (0, 2, 4, 6, 8, 11)], "CA", "ca_ef_hand"


def ddxxd(rng) -> tuple:
    return "DD" + _filler(rng, 2) + "D", [0, 1, 4], "MG", "mg_ddxxd"


def had_motif(rng) -> tuple:
    return "D" + _filler(rng, 1) + "D" + _filler(rng, 1) + rng.choice(["T", "V"]), [0, 2], "MG", "mg_had"


SITES = {"zn_c2h2": c2h2, "zn_treble_clef": treble_clef, "ca_ef_hand": ef_hand, "mg_ddxxd": ddxxd, "mg_had": had_motif}

# Decoys: the coordinating residues with the wrong spacing (no label).
def decoy_spacing(rng, kind: str) -> str:
    if kind.startswith("zn"):
        return "C" + _filler(rng, 3) + "C" + _filler(rng, int(rng.integers(6, 9))) + "H" + _filler(rng, 7) + "H"
    if kind.startswith("ca"):
        return "D" + _filler(rng, 2) + "D" + _filler(rng, 2) + "D" + _filler(rng, 4) + "E"
    return "D" + _filler(rng, 3) + "D" + _filler(rng, 3) + "D"


# The motif-regex baseline: (ion, pattern, coordinating group indices). Groups mark the coordinating residues.
PATTERNS = [
    ("ZN", r"(C)..(?:..)?(C).{12}(H).{3,5}(H)"),
    ("ZN", r"(C)..(C).{9,18}(C)..(C)"),
    ("CA", r"(D).([DN]).([DNS])G(.)[ILV](.)..(E)"),
    ("MG", r"(D)(D)..(D)"),
    ("MG", r"(D).(D).[TV]"),
]


# Every pattern is tried greedy and lazy (shortest and longest variable spacer) at every start.
_COMPILED = [(ion, re.compile(p)) for ion, pattern in PATTERNS for p in {pattern, pattern.replace("}", "}?")}]


def motif_scores(sequence: str, ions: list) -> np.ndarray:
    """(len, ions) 1.0 at coordinating positions of any regex match of the ion's motifs (overlapping matches too)."""
    scores = np.zeros((len(sequence), len(ions)), dtype=np.float32)
    for ion, pattern in _COMPILED:
        if ion not in ions:
            continue
        column = ions.index(ion)
        for start in range(len(sequence)):
            match = pattern.match(sequence, start)
            if match:
                for group in range(1, pattern.groups + 1):
                    scores[match.start(group), column] = 1.0
    return scores
