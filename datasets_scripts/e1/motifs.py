"""
Metal-binding motifs as (segment, coordinating offsets) generators, their decoys, and the regex baseline's patterns.

    ZN  C2H2 zinc finger   [FY]-x-C-x(2,4)-C-x3-F-x5-L-x2-H-x(3,5)-H   C, C, H, H   (x12 between C and H)
    ZN  treble clef        C-x2-C-x(9,18)-C-x2-C                         four C
    CA  EF-hand loop       D-x-[DN]-x-[DNS]-G-x-[ILV]-x-x-x-E            positions 1, 3, 5, 7, 9, 12 of the loop
    MG  DDxxD              D-D-x-x-D (terpene-synthase-like)             D1, D2, D5
    MG  HAD motif I        D-x-D-x-[TV]                                  D1, D3

Like the C2H2 finger (F/L consensus) and the EF-hand (flanking helices), the Mg motifs sit in their structural
context: HAD motif I ends a hydrophobic beta strand (hhhh-DxDx[TV]-[LV]), the DDxxD motif lies on a helix (helix D
of class I terpene synthases; six helix-favouring residues before it). The context is part of the conserved site
block in homologs; cryptic decoys (`generator._cryptic`) are the bare motif without it.

Real sites are not all canonical. `non_canonical` turns a site into a documented variant with the same coordinating
positions, which the canonical patterns (the regex baseline) miss:
    zn_c2h2        -> C2HC: the last His ligand is a Cys (C2HC-type fingers)
    zn_treble_clef -> one Cys ligand is a His (Cys3His treble clefs, as in RING-type sites)
    ca_ef_hand     -> Asp at loop position 12 instead of Glu, or Met/Phe at position 8 instead of I/L/V
    mg_ddxxd       -> DDxxE (the terpene-synthase motif is DDxxD/E)
    mg_had         -> none: HAD motif I is kept canonical
How often a site is non-canonical is the generator's `NON_CANONICAL_RATE` (a choice, not a measured frequency).
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


HYDROPHOBIC = "ILVFM"
DDXXD_HELIX = 6  # helix residues before DDxxD
HAD_STRAND = 4  # hydrophobic strand residues before DxDx[TV]


def ddxxd(rng) -> tuple:
    helix = "".join(rng.choice(list(HELIX.replace("E", "")), size=DDXXD_HELIX))
    return helix + "DD" + _filler(rng, 2) + "D", [DDXXD_HELIX + p for p in (0, 1, 4)], "MG", "mg_ddxxd"


def had_motif(rng) -> tuple:
    strand = "".join(rng.choice(list(HYDROPHOBIC), size=HAD_STRAND))
    motif = "D" + _filler(rng, 1) + "D" + _filler(rng, 1) + rng.choice(["T", "V"]) + rng.choice(["L", "V"])
    return strand + motif, [HAD_STRAND, HAD_STRAND + 2], "MG", "mg_had"


def non_canonical(rng, kind: str, segment: str, offsets: list) -> tuple:
    """(segment, kind) of the non-canonical variant of a site (same coordinating offsets); unchanged where none."""
    chars = list(segment)
    if kind == "zn_c2h2":
        chars[offsets[3]] = "C"
        return "".join(chars), "zn_c2hc"
    if kind == "zn_treble_clef":
        chars[offsets[int(rng.integers(2, 4))]] = "H"
        return "".join(chars), "zn_treble_clef_his"
    if kind == "ca_ef_hand":
        if rng.random() < 0.5:
            chars[offsets[5]] = "D"
        else:
            chars[offsets[3] + 1] = str(rng.choice(["M", "F"]))
        return "".join(chars), "ca_ef_hand_noncanonical"
    if kind == "mg_ddxxd":
        chars[offsets[2]] = "E"
        return "".join(chars), "mg_ddxxe"
    return segment, kind


def spacer_positions(kind: str, segment: str, offsets: list) -> list:
    """Offsets of a site's free 'x' residues (neither coordinating nor consensus), which family members may vary."""
    base = {"zn_c2hc": "zn_c2h2", "zn_treble_clef_his": "zn_treble_clef", "ca_ef_hand_noncanonical": "ca_ef_hand",
            "mg_ddxxe": "mg_ddxxd"}.get(kind, kind)
    if base == "zn_c2h2":  # [FY] x C x2-4 C x3 F x5 L x2 H x3-5 H: consensus F/Y, F and L
        fixed = set(offsets) | {0, offsets[1] + 4, offsets[1] + 10}
        return [i for i in range(len(segment)) if i not in fixed]
    if base == "zn_treble_clef":  # everything but the four ligands
        return [i for i in range(len(segment)) if i not in offsets]
    if base == "ca_ef_hand":  # helices and loop positions G6, I/L/V8 are consensus; 2, 4, 10, 11 are free
        return [6 + p - 1 for p in (2, 4, 10, 11)]
    if base == "mg_ddxxd":  # helix + DDxxD: the two x
        return [offsets[1] + 1, offsets[1] + 2]
    if base == "mg_had":  # strand + DxDx[TV][LV]: the two x
        return [offsets[0] + 1, offsets[1] + 1]
    raise ValueError(f"unknown site kind {kind!r}")


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
