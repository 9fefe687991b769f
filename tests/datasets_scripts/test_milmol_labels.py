"""The simulated labelling rule of the embedded milmol data: pi units, through-space contacts, labels that need 3D."""

import numpy as np
import pytest
from rdkit import Chem

from datasets_scripts.milmol.labels import (CONTACT_DISTANCE, _band, _unit_roles, conjugated_system, contact_distances,
                                            pair_effects, pi_units, simulate_labels)
from modeling.milmol.tokenization_milmol import MILMolTokenizer

PYRENE_C3_DMA = "CN(C)c1ccc(CCCc2ccc3ccc4cccc5ccc2c3c45)cc1"  # Py(CH2)3DMA, the classic intramolecular exciplex
PYRENE_C4_DMA = "CN(C)c1ccc(CCCCc2ccc3ccc4cccc5ccc2c3c45)cc1"
DMA_C3_DINITRO = "CN(C)c1ccc(CCCc2cc([N+](=O)[O-])cc([N+](=O)[O-])c2)cc1"  # a charge-transfer dyad


@pytest.mark.parametrize("smiles, size", [("c1ccccc1", 6), ("c1ccc(cc1)-c1ccccc1", 12), ("c1ccc(cc1)/C=C/c1ccccc1", 14),
                                          ("CCO", 0), ("c1ccccc1CCc1ccccc1", 6)])
def test_conjugated_system_sizes(smiles, size):
    assert len(conjugated_system(Chem.MolFromSmiles(smiles))) == size


def test_pi_units_are_the_aromatic_conjugated_systems_a_saturated_linker_separates():
    mol = Chem.MolFromSmiles(PYRENE_C3_DMA)
    assert sorted(len(u) for u in pi_units(mol)) == [7, 16]  # dimethylaminophenyl (ring + N), pyrene
    assert len(pi_units(Chem.MolFromSmiles("C=CC=CCC=O"))) == 0  # conjugated but not aromatic
    assert len(pi_units(Chem.MolFromSmiles("c1ccc(cc1)-c1ccccc1"))) == 1  # a biaryl is one unit


def test_contact_distance_counts_only_atoms_far_apart_in_bonds():
    mol = Chem.MolFromSmiles("c1ccccc1CCc1ccccc1")  # bibenzyl
    first, second = pi_units(mol)
    coordinates = np.random.default_rng(0).normal(scale=20.0, size=(2, mol.GetNumAtoms(), 3))
    bonds = Chem.GetDistanceMatrix(mol)
    near = next((a, b) for a in first for b in second if bonds[a, b] <= 3)  # ipso-ipso' across the linker
    far = next((a, b) for a in first for b in second if bonds[a, b] >= 5)
    coordinates[0, near[1]] = coordinates[0, near[0]] + [3.0, 0, 0]  # close, but neighbours through the linker
    coordinates[1, far[1]] = coordinates[1, far[0]] + [3.0, 0, 0]  # close through space
    distance = contact_distances(mol, coordinates, first, second)
    assert distance[0] > CONTACT_DISTANCE and distance[1] == pytest.approx(3.0)


def test_pair_effects_exciplex_excimer_and_charge_transfer_bands():
    roles = {name: _unit_roles(Chem.MolFromSmiles(s), list(range(Chem.MolFromSmiles(s).GetNumAtoms())))
             for name, s in {"pyrene": "c1cc2ccc3cccc4ccc(c1)c2c34", "naphthalene": "c1ccc2ccccc2c1",
                             "dma": "CN(C)c1ccccc1", "anisole": "COc1ccccc1", "dinitrobenzene": "O=[N+]([O-])c1cccc([N+](=O)[O-])c1",
                             "nitrobenzene": "O=[N+]([O-])c1ccccc1", "benzene": "c1ccccc1"}.items()}
    roles["dma"] = _unit_roles(Chem.MolFromSmiles("CN(C)c1ccccc1"), [1, 3, 4, 5, 6, 7, 8])  # the unit: N + ring
    pyrene_emission = _band(16) + 25
    assert pyrene_emission < 450  # the pyrene monomer emits in the 340-450 band
    assert pair_effects(roles["pyrene"], roles["dma"], False)["emission"] == pytest.approx(pyrene_emission + 110)
    assert pair_effects(roles["pyrene"], roles["pyrene"], False)["emission"] == pytest.approx(pyrene_emission + 80)
    assert pyrene_emission + 80 > 480
    assert pair_effects(roles["naphthalene"], roles["dma"], False)["emission"] < 480  # naphthalene/DMA exciplex: blue
    assert pair_effects(roles["pyrene"], roles["dma"], True)["emission"] is None  # a quencher in the molecule
    main_pyrene = {**roles["pyrene"], "main": True}
    assert pair_effects(main_pyrene, roles["dma"], False)["quench"]  # electron transfer quenches the monomer
    assert not pair_effects(main_pyrene, {**roles["pyrene"]}, False)["quench"]  # an excimer: dual emission
    assert pair_effects(roles["dma"], roles["nitrobenzene"], True)["ct"] >= 450
    assert pair_effects(roles["anisole"], roles["nitrobenzene"], True)["ct"] < 450  # weak donor, one nitro: UV only
    assert pair_effects(roles["anisole"], roles["dinitrobenzene"], True)["ct"] >= 450
    assert pair_effects(roles["naphthalene"], roles["anisole"], False)["emission"] == pytest.approx(_band(10) + 25 + 50)
    assert pair_effects(roles["naphthalene"], roles["benzene"], False) == {"ct": None, "emission": None, "quench": False}


@pytest.fixture(scope="module")
def conformers():
    featurizer = MILMolTokenizer(fingerprint_bits=32, num_conformers=8)
    records = featurizer.featurize([PYRENE_C3_DMA, PYRENE_C4_DMA, DMA_C3_DINITRO], return_coordinates=True)
    return {r["smiles"]: (r["canonical_smiles"], r["coordinates"]) for r in records}


def _contacts(smiles, coordinates):
    mol = Chem.MolFromSmiles(smiles)
    first, second = pi_units(mol)
    return contact_distances(mol, coordinates, first, second) <= CONTACT_DISTANCE


def test_exciplex_label_rests_on_the_folded_conformers(conformers):
    smiles, coordinates = conformers[PYRENE_C3_DMA]
    contact = _contacts(smiles, coordinates)
    assert 0 < contact.sum() < len(contact)  # ETKDG folds the propane linker in some conformers only (a mixed bag)
    rng = np.random.default_rng(0)
    folded = simulate_labels(smiles, coordinates, rng)
    extended = simulate_labels(smiles, coordinates[~contact], rng)
    # the folded conformer trades the pyrene monomer band (405 nm) for the exciplex band (515 nm)
    assert folded["labels"] == [1.0, 0.0, 0.0, 1.0] and folded["dependent_tasks"] == [0.0, 0.0, 1.0, 1.0]
    assert folded["responsible_conformers"] == np.flatnonzero(contact).tolist() and folded["conformer_dependent"]
    assert folded["responsible_conformer"] in folded["responsible_conformers"]
    assert folded["wl_pred_nm"] > 480  # the reported band is the exciplex one
    assert extended["labels"] == [1.0, 0.0, 1.0, 0.0] and extended["responsible_conformer"] == -1  # pyrene monomer only
    assert not extended["conformer_dependent"] and extended["dependent_tasks"] == [0.0] * 4


def test_a_longer_linker_rarely_folds_and_then_has_no_exciplex(conformers):
    smiles, coordinates = conformers[PYRENE_C4_DMA]
    labels = simulate_labels(smiles, coordinates, np.random.default_rng(0))
    assert labels["labels"][3] == float(_contacts(smiles, coordinates).any())


def test_charge_transfer_band_needs_a_folded_conformer(conformers):
    smiles, coordinates = conformers[DMA_C3_DINITRO]
    contact = _contacts(smiles, coordinates)
    assert contact.any()
    rng = np.random.default_rng(0)
    folded, extended = simulate_labels(smiles, coordinates, rng), simulate_labels(smiles, coordinates[~contact], rng)
    assert folded["labels"][:2] == [1.0, 1.0] and folded["lambda_abs"] >= 450 and folded["dependent_tasks"][:2] == [1.0, 1.0]
    assert extended["labels"][:2] == [0.0, 0.0]
    assert folded["labels"][2:] == extended["labels"][2:] == [0.0, 0.0]  # nitro quenches every emission
    assert folded["Transmittance_450_quantitative"] < extended["Transmittance_450_quantitative"]


def test_biaryl_link_shortens_the_effective_chromophore():
    rng = np.random.default_rng(0)
    biphenyl = simulate_labels("c1ccc(cc1)-c1ccccc1", np.zeros((2, 12, 3)), rng)
    acenaphthylene_size = simulate_labels("c1cc2cccc3ccc(c1)c23", np.zeros((2, 12, 3)), rng)  # 12 fused atoms
    assert biphenyl["lambda_abs"] < acenaphthylene_size["lambda_abs"]


def test_quenchers_do_not_fluoresce_and_aliphatics_absorb_nothing():
    rng = np.random.default_rng(0)
    flat = lambda n: np.zeros((2, n, 3)) + np.random.default_rng(1).normal(size=(1, n, 3)) * np.array([1, 1, 0])  # noqa: E731
    nitro = simulate_labels("O=[N+]([O-])c1ccc2cc3ccccc3cc2c1", flat(17), rng)
    anthracene = simulate_labels("c1ccc2cc3ccccc3cc2c1", flat(14), rng)
    ethanol = simulate_labels("CCO", flat(3), rng)
    assert nitro["labels"][2] == nitro["labels"][3] == 0 and np.isnan(nitro["wl_pred_nm"])
    assert anthracene["labels"][0] == 1 and anthracene["labels"][2] == 1 and not np.isnan(anthracene["qy_pred"])
    assert ethanol["labels"] == [0.0, 0.0, 0.0, 0.0] and ethanol["Transmittance_340_quantitative"] > 90
