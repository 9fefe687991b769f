"""The embedded generator: motif rules, property rules, descriptions that follow from the protein, disjoint splits."""

import collections
import re

import numpy as np
import pytest

from datasets_scripts.mutation2text.generator import describe, generate_protein, generate_splits
from datasets_scripts.mutation2text.motifs import find_motifs, motif_hit
from datasets_scripts.mutation2text.properties import EFFECTS, describe_residue, is_destabilizing, property_changes
from modeling.mutation2text.mutations_mutation2text import Substitution, parse_mutations

ZINC_FINGER = "MAAA" + "CPEC" + "GKSFSQSSNLQK" + "HQRTH" + "AAAA"  # C5 C8 H21 H25


def test_motif_rules():
    motifs = {m.kind: m for m in find_motifs(ZINC_FINGER + "NGS" + "AAHC" + "DIALL" + "GDSGG")}
    assert motifs["zinc finger"].positions == (5, 8, 21, 25)
    assert motifs["glycosylation"].positions == (30, 31, 32)
    assert motifs["catalytic triad"].positions == (35, 37, 44)
    assert "signal peptide" not in motifs
    signal = find_motifs("MKRLLAVIFALLAGAA")
    assert signal[0].kind == "signal peptide" and signal[0].positions[0] == 4
    # a sequon with a proline in the middle is no sequon; the triad needs His < Asp < Ser
    assert not [m for m in find_motifs("MANPSA") if m.kind == "glycosylation"]
    assert not [m for m in find_motifs("GDSGGAADIALLAAHC") if m.kind == "catalytic triad"]


@pytest.mark.parametrize("sequence, position, mutant, hit", [
    (ZINC_FINGER, 5, "S", "zinc finger"),       # a coordinating cysteine
    (ZINC_FINGER, 6, "A", None),                # its neighbour
    ("MANGSA", 3, "Q", "glycosylation"),        # the Asn
    ("MANGSA", 5, "T", None),                   # Ser -> Thr keeps N-X-S/T
    ("MANGSA", 5, "A", "glycosylation"),
    ("MANGSA", 4, "P", "glycosylation"),        # N-P-S is not glycosylated
    ("MKRLLAVIFALLAGAA", 6, "D", "signal peptide"),
    ("MKRLLAVIFALLAGAA", 6, "V", None),
])
def test_motif_hits(sequence, position, mutant, hit):
    found = motif_hit(sequence, position, mutant)
    assert (found[0].kind if found else None) == hit


def test_property_rules():
    assert describe_residue("K") == "large positively charged lysine"
    assert describe_residue("A") == "small hydrophobic alanine" and describe_residue("G") == "small flexible glycine"
    assert property_changes("K", "E")[0] == "reverses the side-chain charge"
    assert "introduces a helix-breaking proline" in property_changes("A", "P")
    assert property_changes("L", "I") == [] and not is_destabilizing("L", "I")
    assert is_destabilizing("G", "A") and is_destabilizing("K", "E") and is_destabilizing("A", "W")


def test_description_depends_on_the_protein_not_only_on_the_residues():
    # the same C -> S substitution, inside a zinc finger and outside one
    inside, effect_in, motif_in = describe(ZINC_FINGER, Substitution("C", 5, "S"))
    outside, effect_out, motif_out = describe("MAAACPEAAAAA", Substitution("C", 5, "S"))
    assert effect_in == "loss of function" and motif_in == "zinc finger" and "zinc binding is lost" in inside
    assert effect_out == "neutral" and motif_out == "none" and "No functional site is affected." in outside
    assert inside.split(".")[0] == outside.split(".")[0] == "C5S replaces a sulfur-containing cysteine with a small polar serine"
    assert inside.endswith("Effect: loss of function.")


def test_generated_splits():
    splits = generate_splits("demo", seed=3)
    assert generate_splits("demo", seed=3)["test"]["answer"] == splits["test"]["answer"]
    train, test = splits["train"], splits["test"]
    assert not set(train["wild_type"]) & set(test["wild_type"]) and not set(train["protein_id"]) & set(test["protein_id"])
    effects = collections.Counter(train["effect"])
    assert set(effects) == set(EFFECTS) and effects["loss of function"] > 50
    for i in range(len(train["answer"])):
        substitution = parse_mutations(train["mutation"][i])[0]
        wild_type, mutant = train["wild_type"][i], train["mutant"][i]
        assert wild_type[substitution.position - 1] == substitution.wild_type
        assert mutant[substitution.position - 1] == substitution.mutant and len(mutant) == len(wild_type)
        assert train["answer"][i].startswith(train["mutation"][i] + " ")
        assert re.search(r"Effect: ([a-z ]+)\.$", train["answer"][i]).group(1) == train["effect"][i]
    # decoys: residue types of motif hits also occur outside motifs, so residue identity does not give the effect
    cysteines = [e for m, e in zip(train["mutation"], train["effect"]) if m[0] == "C"]
    assert {"loss of function"} < set(cysteines)


def test_proteins_have_motifs():
    rng = np.random.default_rng(0)
    kinds = collections.Counter(m.kind for _ in range(50) for m in find_motifs(generate_protein(rng)))
    assert kinds["zinc finger"] > 5 and kinds["catalytic triad"] > 5 and kinds["glycosylation"] > 5
    assert kinds["signal peptide"] > 10
