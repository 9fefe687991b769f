"""Mutation strings: parsing (one- and three-letter, HGVS p., lists), validation against the wild type, diffs."""

import pytest

from modeling.mutation2text.mutations_mutation2text import (
    Substitution, apply_mutations, check_sequence, diff_mutations, format_mutations, parse_mutations, resolve_mutant,
)

WILD_TYPE = "MKTAYIAKQRQISFVK"


@pytest.mark.parametrize("text, expected", [
    ("K2A", [Substitution("K", 2, "A")]),
    ("p.Lys2Ala", [Substitution("K", 2, "A")]),
    ("p.(Lys2Ala)", [Substitution("K", 2, "A")]),
    ("k2a", [Substitution("K", 2, "A")]),
    ("K2A; p.Arg10Gly;Y5W", [Substitution("K", 2, "A"), Substitution("R", 10, "G"), Substitution("Y", 5, "W")]),
])
def test_parse(text, expected):
    assert parse_mutations(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("K2", "cannot parse"), ("2A", "cannot parse"), ("K2A;;R10G", "cannot parse"),
    ("J2A", "'J' is not an amino acid"), ("p.Lyx2Ala", "'Lyx' is not an amino acid"),
])
def test_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_mutations(text)


@pytest.mark.parametrize("text, message", [
    ("A2K", "has K at position 2, not A"),
    ("K99A", r"position 99 is outside the wild type \(1..16\)"),
    ("K2K", "synonymous"),
    ("K2A;K2G", "mutated twice"),
])
def test_validation_against_the_wild_type(text, message):
    with pytest.raises(ValueError, match=message):
        apply_mutations(WILD_TYPE, parse_mutations(text))


def test_apply_and_diff_are_inverse():
    substitutions = parse_mutations("K2A;R10G")
    mutant = apply_mutations(WILD_TYPE, substitutions)
    assert mutant == "MATAYIAKQGQISFVK"
    assert diff_mutations(WILD_TYPE, mutant) == substitutions
    assert format_mutations(substitutions) == "K2A;R10G"
    assert substitutions[0].hgvs == "p.Lys2Ala"


def test_sequences_are_checked():
    assert check_sequence("mktx") == "MKTX"
    with pytest.raises(ValueError, match="'1' at position 3"):
        check_sequence("MK1A", "wild type")
    with pytest.raises(ValueError, match="differ in length"):
        diff_mutations(WILD_TYPE, WILD_TYPE[:-1])
    with pytest.raises(ValueError, match="equals the wild type"):
        diff_mutations(WILD_TYPE, WILD_TYPE)


def test_resolve_mutant_needs_exactly_one_of_mutation_and_mutant():
    assert resolve_mutant(WILD_TYPE, mutation="K2A")[1] == resolve_mutant(WILD_TYPE, mutant="MATAYIAKQRQISFVK")[1]
    assert resolve_mutant(WILD_TYPE, mutation="K2A", mutant="None")[2] == [Substitution("K", 2, "A")]
    with pytest.raises(ValueError, match="exactly one"):
        resolve_mutant(WILD_TYPE)
    with pytest.raises(ValueError, match="exactly one"):
        resolve_mutant(WILD_TYPE, mutation="K2A", mutant="MATAYIAKQRQISFVK")
