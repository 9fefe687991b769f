"""The simulated labelling rule of the embedded milmol data: conjugated systems, planarity, labels that need 3D."""

import numpy as np
import pytest
from rdkit import Chem

from datasets_scripts.milmol.labels import PLANAR_RMS, conjugated_system, plane_rms, simulate_labels


@pytest.mark.parametrize("smiles, size", [("c1ccccc1", 6), ("c1ccc(cc1)-c1ccccc1", 12), ("c1ccc(cc1)/C=C/c1ccccc1", 14),
                                          ("CCO", 0), ("c1ccccc1CCc1ccccc1", 6)])
def test_conjugated_system_sizes(smiles, size):
    assert len(conjugated_system(Chem.MolFromSmiles(smiles))) == size


def test_plane_rms_measures_the_distance_from_the_best_plane():
    flat = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]], dtype=float)
    saddle = flat.copy()
    saddle[0, :, 2] = [0.25, -0.25, -0.25, 0.25]  # best plane z = 0, every atom 0.25 Å off it
    assert plane_rms(flat, [0, 1, 2, 3])[0] == pytest.approx(0.0, abs=1e-9)
    assert plane_rms(saddle, [0, 1, 2, 3])[0] == pytest.approx(0.25, abs=1e-6)


def _biphenyl_conformers(twists):
    """Heavy-atom coordinates of biphenyl (canonical atom order) with the second ring twisted by each angle."""
    mol = Chem.MolFromSmiles(Chem.MolToSmiles(Chem.MolFromSmiles("c1ccc(-c2ccccc2)cc1")))
    order = Chem.GetSymmSSSR(mol)
    first, second = list(order[0]), list(order[1])
    link = next(b for b in mol.GetBonds() if not b.IsInRing())
    a, b = link.GetBeginAtomIdx(), link.GetEndAtomIdx()
    if a not in first:
        a, b = b, a
    conformers = []
    for twist in twists:
        coords = np.zeros((mol.GetNumAtoms(), 3))
        for ring, anchor, centre_x, sign in ((first, a, -2.14, 1), (second, b, 2.14, -1)):
            start = ring.index(anchor)
            for k in range(6):
                angle = np.pi * (k / 3.0) + (0 if sign > 0 else np.pi)
                x, y = centre_x + sign * 1.4 * np.cos(angle), 1.4 * np.sin(angle)
                z = 0.0
                if ring is second:
                    y, z = y * np.cos(twist), y * np.sin(twist)
                coords[ring[(start + k) % 6]] = (x, y, z)
        conformers.append(coords)
    return Chem.MolToSmiles(mol), np.stack(conformers)


def test_labels_depend_on_whether_some_conformer_is_planar():
    smiles, conformers = _biphenyl_conformers([np.pi / 4, 0.0, np.pi / 3])
    rng = np.random.default_rng(0)
    some_planar = simulate_labels(smiles, conformers, rng)
    none_planar = simulate_labels(smiles, conformers[[0, 2]], rng)
    assert some_planar["planar_conformers"] == [1] and some_planar["responsible_conformer"] == 1
    assert some_planar["conformer_dependent"] and not none_planar["conformer_dependent"]
    assert none_planar["responsible_conformer"] == -1
    assert some_planar["lambda_abs"] > none_planar["lambda_abs"]  # a planar conformer extends the chromophore
    assert plane_rms(conformers, conjugated_system(Chem.MolFromSmiles(smiles)))[1] < PLANAR_RMS


def test_quenchers_do_not_fluoresce_and_aliphatics_absorb_nothing():
    rng = np.random.default_rng(0)
    flat = lambda n: np.zeros((2, n, 3)) + np.random.default_rng(1).normal(size=(1, n, 3)) * np.array([1, 1, 0])  # noqa: E731
    nitro = simulate_labels("O=[N+]([O-])c1ccc2cc3ccccc3cc2c1", flat(17), rng)
    anthracene = simulate_labels("c1ccc2cc3ccccc3cc2c1", flat(14), rng)
    ethanol = simulate_labels("CCO", flat(3), rng)
    assert nitro["labels"][2] == nitro["labels"][3] == 0 and np.isnan(nitro["wl_pred_nm"])
    assert anthracene["labels"][0] == 1 and anthracene["labels"][2] == 1 and not np.isnan(anthracene["qy_pred"])
    assert ethanol["labels"] == [0.0, 0.0, 0.0, 0.0] and ethanol["Transmittance_340_quantitative"] > 90
