"""
The embedded default data: generated proteins with planted functional motifs, and single substitutions whose
descriptions follow from amino-acid properties and from whether the substitution breaks a motif.

Each protein (70-130 residues of background at Swiss-Prot composition) gets, at random, a signal peptide (half
of them) and one to three of: a C2H2 zinc finger, a serine-protease catalytic triad, N-glycosylation sequons.
Motifs are then found by rule (`motifs.find_motifs`), so chance sequons count too. Per protein, substitutions are
drawn as motif hits (a key residue replaced), decoys (the same residue types - Cys, His, Ser, Asp, Asn, Thr -
outside any motif) and random positions, so residue identity alone does not tell the effect: the text is right
only if the protein is read. Description (the answer), e.g.:

    K45A replaces a large positively charged lysine with a small hydrophobic alanine. It removes a positive
    charge and makes the site much more hydrophobic. No functional site is affected. Effect: destabilizing.

Every example names wild-type residue, position and mutant residue in that first token, and ends with
"Effect: <class>" (`properties.EFFECTS`); `metrics` parses both.
"""

import numpy as np

from modeling.mutation2text.mutations_mutation2text import AMINO_ACIDS, Substitution

from .motifs import find_motifs, motif_hit
from .properties import FREQUENCY, describe_residue, is_destabilizing, property_changes

SIZES = {  # proteins per split (train, validation, test) and substitutions per protein
    "tiny": ((6, 2, 2), 4),
    "demo": ((48, 6, 14), 6),
    "full": ((2000, 100, 200), 8),
}
QUESTIONS = ("What is its effect?", "Describe this mutation.", "How does it affect the protein?")
RESIDUES = sorted(AMINO_ACIDS)
_BACKGROUND_P = np.array([FREQUENCY[r] for r in RESIDUES]) / sum(FREQUENCY.values())
_DECOY_TYPES = "CHSDNT"
_MOTIF_SENTENCE = {
    "zinc finger": "It replaces a {role} of a C2H2 zinc finger, so zinc binding is lost.",
    "catalytic triad": "It replaces the {role} of the serine-protease catalytic triad, so catalysis is lost.",
    "glycosylation": "It destroys the N-glycosylation sequon N-X-S/T ({role}), so the glycan is lost.",
    "signal peptide": "It puts a {residue} into the hydrophobic core of the signal peptide, impairing secretion.",
}


def describe(wild_type_sequence: str, substitution: Substitution, motifs=None) -> tuple:
    """(description, effect class, motif kind or "none") of one substitution of `wild_type_sequence`."""
    wt, mt, position = substitution.wild_type, substitution.mutant, substitution.position
    sentences = [f"{substitution} replaces a {describe_residue(wt)} with a {describe_residue(mt)}."]
    changes = property_changes(wt, mt)
    if changes:
        sentences.append("It " + (" and ".join(changes[:2]) if len(changes) <= 2 else f"{changes[0]}, {changes[1]} and {changes[2]}") + ".")
    else:
        sentences.append("The change is conservative.")
    hit = motif_hit(wild_type_sequence, position, mt, motifs)
    if hit is not None:
        motif, role = hit
        sentences.append(_MOTIF_SENTENCE[motif.kind].format(role=role, residue=AMINO_ACIDS[mt][1]))
        effect = "impaired secretion" if motif.kind == "signal peptide" else "loss of function"
        kind = motif.kind
    else:
        sentences.append("No functional site is affected.")
        effect, kind = ("destabilizing" if is_destabilizing(wt, mt) else "neutral"), "none"
    sentences.append(f"Effect: {effect}.")
    return " ".join(sentences), effect, kind


def _background(rng, length: int) -> list:
    return list(rng.choice(RESIDUES, size=length, p=_BACKGROUND_P))


def _plant(residues: list, rng, motif: str, taken: set) -> None:
    """Write `motif` (a string, '.' = keep background) at a free place of `residues`."""
    for _ in range(100):
        start = int(rng.integers(25, len(residues) - len(motif)))
        span = set(range(start, start + len(motif)))
        if not span & taken:
            for offset, letter in enumerate(motif):
                if letter != ".":
                    residues[start + offset] = letter
            taken |= set(range(start - 2, start + len(motif) + 2))
            return


def generate_protein(rng) -> str:
    residues = _background(rng, int(rng.integers(70, 131)))
    residues[0] = "M"
    taken = set()
    if rng.random() < 0.5:  # signal peptide: M, 1-3 K/R, a hydrophobic core of 8-12, an A-x-A cleavage site
        n_region = list(rng.choice(list("KR"), size=int(rng.integers(1, 4))))
        core = list(rng.choice(list("LAVIF"), size=int(rng.integers(8, 13))))
        signal = ["M"] + n_region + core + ["A", str(rng.choice(RESIDUES)), "A"]
        residues[: len(signal)] = signal
    kinds = rng.choice(["zinc finger", "catalytic triad", "glycosylation"], size=int(rng.integers(1, 4)), replace=False)
    for kind in kinds:
        if kind == "zinc finger":
            _plant(residues, rng, "C..C" + "." * 12 + "H...H", taken)
        elif kind == "catalytic triad":
            # in order His < Asp < Ser, kept apart; fits proteins of 70+ residues after a signal peptide
            for part in ("TAAHC", "DIALL", "GDSGGP"):
                _plant(residues, rng, part, taken)
        else:
            for _ in range(int(rng.integers(1, 3))):
                _plant(residues, rng, "N" + str(rng.choice([r for r in RESIDUES if r != "P"])) + str(rng.choice(["S", "T"])), taken)
    sequence = "".join(residues)
    his, asp, ser = sequence.find("AAHC"), sequence.find("DIAL"), sequence.find("GDSGG")
    if "catalytic triad" in kinds and not -1 < his < asp < ser:  # planted out of order: put them in order
        return generate_protein(rng)
    return sequence


def _substitutions(sequence: str, rng, count: int) -> list:
    motifs = find_motifs(sequence)
    key = sorted({p for m in motifs if m.kind != "signal peptide" for p in m.positions})
    core = sorted({p for m in motifs if m.kind == "signal peptide" for p in m.positions})
    in_motif = {p for m in motifs for p in m.positions}
    decoys = [i + 1 for i, r in enumerate(sequence) if r in _DECOY_TYPES and i + 1 not in in_motif and i > 0]
    chosen, out = set(), []
    for _ in range(count * 10):
        if len(out) == count:
            break
        draw = rng.random()
        if draw < 0.35 and key:
            position = int(rng.choice(key))
        elif draw < 0.45 and core:
            position = int(rng.choice(core))
        elif draw < 0.75 and decoys:
            position = int(rng.choice(decoys))
        else:
            position = int(rng.integers(2, len(sequence) + 1))
        if position in chosen:
            continue
        wild_type = sequence[position - 1]
        # in a signal-peptide core, mostly the changes that matter there (charge, proline)
        options = "DEKRP" if position in core and rng.random() < 0.6 else RESIDUES
        mutant = str(rng.choice([r for r in options if r != wild_type]))
        chosen.add(position)
        out.append(Substitution(wild_type, position, mutant))
    return out


def generate_examples(n_proteins: int, per_protein: int, rng, prefix: str) -> dict:
    columns = {name: [] for name in ("protein_id", "wild_type", "mutation", "mutant", "question", "answer", "effect", "motif")}
    for index in range(n_proteins):
        sequence = generate_protein(rng)
        motifs = find_motifs(sequence)
        for substitution in _substitutions(sequence, rng, per_protein):
            answer, effect, kind = describe(sequence, substitution, motifs)
            mutant = sequence[: substitution.position - 1] + substitution.mutant + sequence[substitution.position:]
            columns["protein_id"].append(f"{prefix}{index:05d}")
            columns["wild_type"].append(sequence)
            columns["mutation"].append(str(substitution))
            columns["mutant"].append(mutant)
            columns["question"].append(str(rng.choice(QUESTIONS)))
            columns["answer"].append(answer)
            columns["effect"].append(effect)
            columns["motif"].append(kind)
    return columns


def generate_splits(size: str = "demo", seed: int = 0) -> dict:
    """{"train", "validation", "test"} -> columns; proteins are generated per split, so splits share none."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; known: {', '.join(SIZES)}")
    (n_train, n_validation, n_test), per_protein = SIZES[size]
    rng = np.random.default_rng(seed)
    return {name: generate_examples(n, per_protein, rng, f"gen-{name}-")
            for name, n in (("train", n_train), ("validation", n_validation), ("test", n_test))}
