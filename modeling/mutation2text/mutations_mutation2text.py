"""
Protein substitutions: parse `K45A`, `p.Lys45Ala`, `p.(Lys45Ala)` and `;`-separated lists, check them against
the wild type, apply them, and recover them from a (wild type, mutant) pair. Positions are 1-based, as in HGVS.
"""

import re
from dataclasses import dataclass

# The 20 standard amino acids: one-letter code -> three-letter code and name.
AMINO_ACIDS = {
    "A": ("Ala", "alanine"), "R": ("Arg", "arginine"), "N": ("Asn", "asparagine"), "D": ("Asp", "aspartate"),
    "C": ("Cys", "cysteine"), "Q": ("Gln", "glutamine"), "E": ("Glu", "glutamate"), "G": ("Gly", "glycine"),
    "H": ("His", "histidine"), "I": ("Ile", "isoleucine"), "L": ("Leu", "leucine"), "K": ("Lys", "lysine"),
    "M": ("Met", "methionine"), "F": ("Phe", "phenylalanine"), "P": ("Pro", "proline"), "S": ("Ser", "serine"),
    "T": ("Thr", "threonine"), "W": ("Trp", "tryptophan"), "Y": ("Tyr", "tyrosine"), "V": ("Val", "valine"),
}
THREE_TO_ONE = {three.upper(): one for one, (three, _) in AMINO_ACIDS.items()}
# Letters ESM-2 also accepts in a sequence (ambiguous / rare residues); a substitution must use the 20 above.
EXTRA_SEQUENCE_LETTERS = set("XBUZO")

_SUBSTITUTION = re.compile(r"^(?:p\.)?\(?([A-Za-z]{1,3}?)(\d+)([A-Za-z]{1,3})\)?$")


@dataclass(frozen=True)
class Substitution:
    """One amino-acid substitution: `wild_type` residue at 1-based `position` replaced by `mutant`."""

    wild_type: str
    position: int
    mutant: str

    def __str__(self) -> str:
        return f"{self.wild_type}{self.position}{self.mutant}"

    @property
    def hgvs(self) -> str:
        return f"p.{AMINO_ACIDS[self.wild_type][0]}{self.position}{AMINO_ACIDS[self.mutant][0]}"


def _residue(code: str, text: str) -> str:
    if len(code) == 1 and code.upper() in AMINO_ACIDS:
        return code.upper()
    if len(code) == 3 and code.upper() in THREE_TO_ONE:
        return THREE_TO_ONE[code.upper()]
    raise ValueError(f"mutation {text!r}: {code!r} is not an amino acid (one-letter code or three-letter code like Lys)")


def parse_mutations(text: str) -> list:
    """`"K45A"`, `"p.Lys45Ala"`, `"K45A; p.(Arg50Gly)"` -> [Substitution, ...] in the order given."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"empty mutation string {text!r}; expected e.g. 'K45A' or 'p.Lys45Ala'")
    substitutions = []
    for part in text.split(";"):
        part = part.strip()
        match = _SUBSTITUTION.match(part)
        if not part or match is None:
            raise ValueError(f"cannot parse mutation {part!r} in {text!r}; expected e.g. 'K45A', 'p.Lys45Ala', "
                             "several separated by ';'")
        wild_type, position, mutant = match.groups()
        substitutions.append(Substitution(_residue(wild_type, part), int(position), _residue(mutant, part)))
    return substitutions


def check_sequence(sequence: str, what: str = "sequence") -> str:
    """Upper-cased `sequence`, or a ValueError naming the first letter that is not an amino acid and where."""
    if not isinstance(sequence, str) or not sequence:
        raise ValueError(f"{what} is empty")
    sequence = sequence.strip().upper()
    for index, letter in enumerate(sequence):
        if letter not in AMINO_ACIDS and letter not in EXTRA_SEQUENCE_LETTERS:
            raise ValueError(f"{what}: {letter!r} at position {index + 1} is not an amino-acid letter")
    return sequence


def validate_mutations(wild_type: str, substitutions: list) -> list:
    """Check every substitution against `wild_type` (range, residue, no duplicate position, a real change)."""
    seen = set()
    for substitution in substitutions:
        where = f"mutation {substitution}"
        if not 1 <= substitution.position <= len(wild_type):
            raise ValueError(f"{where}: position {substitution.position} is outside the wild type (1..{len(wild_type)})")
        found = wild_type[substitution.position - 1]
        if found != substitution.wild_type:
            raise ValueError(f"{where}: the wild type has {found} at position {substitution.position}, "
                             f"not {substitution.wild_type}")
        if substitution.mutant == substitution.wild_type:
            raise ValueError(f"{where}: not a change (synonymous)")
        if substitution.position in seen:
            raise ValueError(f"{where}: position {substitution.position} is mutated twice")
        seen.add(substitution.position)
    return substitutions


def apply_mutations(wild_type: str, substitutions: list) -> str:
    """The mutant sequence (the substitutions must be valid for `wild_type`)."""
    residues = list(wild_type)
    for substitution in validate_mutations(wild_type, substitutions):
        residues[substitution.position - 1] = substitution.mutant
    return "".join(residues)


def diff_mutations(wild_type: str, mutant: str) -> list:
    """The substitutions turning `wild_type` into `mutant` (same length: insertions/deletions are not supported)."""
    if len(wild_type) != len(mutant):
        raise ValueError(f"the mutant ({len(mutant)} aa) and wild type ({len(wild_type)} aa) differ in length; only "
                         "substitutions are supported")
    changes = [Substitution(w, i + 1, m) for i, (w, m) in enumerate(zip(wild_type, mutant)) if w != m]
    if not changes:
        raise ValueError("the mutant sequence equals the wild type")
    for change in changes:
        if change.wild_type not in AMINO_ACIDS or change.mutant not in AMINO_ACIDS:
            raise ValueError(f"substitution {change}: only the 20 standard amino acids can be substituted")
    return changes


def resolve_mutant(wild_type: str, mutation=None, mutant=None) -> tuple:
    """(wild type, mutant sequence, substitutions) from a wild type and either a mutation string or a mutant."""
    wild_type = check_sequence(wild_type, "wild type")
    if (mutation is None) == (mutant is None or mutant == "None"):
        raise ValueError("give exactly one of mutation= (e.g. 'K45A') and mutant= (the mutant sequence)")
    if mutation is not None:
        substitutions = parse_mutations(mutation) if isinstance(mutation, str) else list(mutation)
        return wild_type, apply_mutations(wild_type, substitutions), substitutions
    mutant = check_sequence(mutant, "mutant")
    return wild_type, mutant, diff_mutations(wild_type, mutant)


def format_mutations(substitutions: list) -> str:
    return ";".join(str(s) for s in substitutions)
