"""The second dyad block of molecules.tsv: written by datasets_scripts.milmol.dyads, two pi units per molecule."""

import collections

from rdkit import Chem

from datasets_scripts.milmol import embedded_molecules
from datasets_scripts.milmol.dyads import SPACERS, SPACERS_PER_PAIR, dyad_rows, pairs
from datasets_scripts.milmol.labels import pi_units


def test_the_embedded_block_is_what_the_generator_writes():
    rows = [tuple(r) for r in embedded_molecules("demo")]
    block = dyad_rows()
    assert rows[-len(block):] == block
    assert len(block) == SPACERS_PER_PAIR * len(pairs()) == 567


def test_no_molecule_twice_and_no_first_block_pair_again():
    rows = embedded_molecules("demo")
    canonical = [Chem.CanonSmiles(r[2]) for r in rows]
    assert len(set(canonical)) == len(canonical) and len({r[0] for r in rows}) == len(rows)


def test_each_new_dyad_is_two_pi_units_a_saturated_spacer_keeps_apart():
    for name, kind, smiles in dyad_rows()[::7]:
        assert kind.startswith("bichromophore") and len(pi_units(Chem.MolFromSmiles(smiles))) == 2, name


def test_every_spacer_is_used_about_equally():
    counts = collections.Counter(next(s for s, _ in sorted(SPACERS, key=lambda s: -len(s[0])) if f"-{s}-" in name)
                                 for name, _, _ in dyad_rows())
    assert len(counts) == len(SPACERS) and max(counts.values()) - min(counts.values()) <= 3
