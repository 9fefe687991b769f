"""
Amino-acid properties and the rules that turn a substitution into a description and an effect class.

Values are the standard tables: Kyte & Doolittle hydropathy (J Mol Biol 1982), side-chain charge at pH 7, and
residue volumes in cubic angstroms (Zamyatnin, Prog Biophys 1972). The effect rules (in priority order):
    loss of function     the substitution removes a residue a functional motif needs (see `motifs.py`)
    impaired secretion   a charged residue or a proline put into the hydrophobic core of a signal peptide
    destabilizing        a proline introduced, a glycine removed, a charge reversed, or a large change of
                         hydropathy (|dKD| >= 5) or volume (|dV| >= 70 A^3)
    neutral              anything else
"""

from modeling.mutation2text.mutations_mutation2text import AMINO_ACIDS

HYDROPATHY = {"A": 1.8, "R": -4.5, "N": -3.5, "D": -3.5, "C": 2.5, "Q": -3.5, "E": -3.5, "G": -0.4, "H": -3.2,
              "I": 4.5, "L": 3.8, "K": -3.9, "M": 1.9, "F": 2.8, "P": -1.6, "S": -0.8, "T": -0.7, "W": -0.9,
              "Y": -1.3, "V": 4.2}
CHARGE = {"D": -1, "E": -1, "K": 1, "R": 1}
VOLUME = {"A": 88.6, "R": 173.4, "N": 114.1, "D": 111.1, "C": 108.5, "Q": 143.8, "E": 138.4, "G": 60.1, "H": 153.2,
          "I": 166.7, "L": 166.7, "K": 168.6, "M": 162.9, "F": 189.9, "P": 112.7, "S": 89.0, "T": 116.1, "W": 227.8,
          "Y": 193.6, "V": 140.0}
# UniProtKB/Swiss-Prot amino-acid composition (%), for background sequence.
FREQUENCY = {"A": 8.25, "R": 5.53, "N": 4.06, "D": 5.45, "C": 1.37, "Q": 3.93, "E": 6.75, "G": 7.07, "H": 2.27,
             "I": 5.96, "L": 9.66, "K": 5.84, "M": 2.42, "F": 3.86, "P": 4.70, "S": 6.56, "T": 5.34, "W": 1.08,
             "Y": 2.92, "V": 6.87}
CHEMISTRY = {"K": "positively charged", "R": "positively charged", "D": "negatively charged", "E": "negatively charged",
             "F": "aromatic", "W": "aromatic", "Y": "aromatic", "I": "hydrophobic", "L": "hydrophobic",
             "V": "hydrophobic", "M": "hydrophobic", "A": "hydrophobic", "C": "sulfur-containing", "S": "polar",
             "T": "polar", "N": "polar", "Q": "polar", "H": "polar", "G": "flexible", "P": "rigid"}
EFFECTS = ("loss of function", "impaired secretion", "destabilizing", "neutral")


def describe_residue(residue: str) -> str:
    """'large positively charged lysine', 'small hydrophobic alanine', 'flexible glycine'."""
    size = "small " if VOLUME[residue] < 100 else "large " if VOLUME[residue] > 160 else ""
    return f"{size}{CHEMISTRY[residue]} {AMINO_ACIDS[residue][1]}"


def property_changes(wild_type: str, mutant: str) -> list:
    """Phrases for the physico-chemical change, most important first (empty for a conservative change)."""
    changes = []
    before, after = CHARGE.get(wild_type, 0), CHARGE.get(mutant, 0)
    if before and after and before != after:
        changes.append("reverses the side-chain charge")
    elif before and not after:
        changes.append(f"removes a {'positive' if before > 0 else 'negative'} charge")
    elif after and not before:
        changes.append(f"introduces a {'positive' if after > 0 else 'negative'} charge")
    if mutant == "P":
        changes.append("introduces a helix-breaking proline")
    if wild_type == "G":
        changes.append("removes a flexible glycine")
    hydropathy = HYDROPATHY[mutant] - HYDROPATHY[wild_type]
    if abs(hydropathy) >= 3:
        changes.append(f"makes the site much more {'hydrophobic' if hydropathy > 0 else 'hydrophilic'}")
    volume = VOLUME[mutant] - VOLUME[wild_type]
    if volume >= 50:
        changes.append("adds a bulky side chain")
    elif volume <= -50:
        changes.append("leaves a cavity")
    return changes


def is_destabilizing(wild_type: str, mutant: str) -> bool:
    before, after = CHARGE.get(wild_type, 0), CHARGE.get(mutant, 0)
    return (mutant == "P" or wild_type == "G" or before * after < 0
            or abs(HYDROPATHY[mutant] - HYDROPATHY[wild_type]) >= 5 or abs(VOLUME[mutant] - VOLUME[wild_type]) >= 70)
