"""
The simulated labelling rule of the embedded milmol data: optical properties from the 2D structure AND from a
property only some conformers have (a planar conjugated system), so that multiple-instance pooling matters and
the conformer responsible for a label is known.

For a molecule (RDKit, heavy atoms) with conformers (coordinates from the featurizer):
  conjugated system    the largest connected set of atoms joined by conjugated bonds (RDKit's flag), n atoms
  planar conformer     one where those atoms lie within PLANAR_RMS Å (RMS) of their best-fitting plane;
                       `planar_conformers` lists them, the most planar is the `responsible_conformer`
  effective length     n when some conformer is planar, TWIST_FACTOR * n otherwise (a twisted system
                       is two shorter chromophores; a rigid fused system is planar in every conformer)
  absorption maximum   lambda_abs = 150 + 33 * length ** 0.7 nm, + PUSH_PULL_SHIFT with a donor and an acceptor on
                       the conjugated system, + AZO_SHIFT for an azo group in it
  emission             fluorescent when no quencher (nitro, azo, Br, I), conjugated system >= 10 atoms, >= 75 % of
                       it in rings, and a planar conformer (rigid enough to emit); lambda_em = lambda_abs + 25
                       (+ 45 with push-pull: charge-transfer Stokes shift)
Tasks (EUOS25 names; 1 = positive):
  Transmittance_340            lambda_abs >= 340 nm (the molecule absorbs at 340 nm)
  Transmittance_450            lambda_abs >= 450 nm
  Fluorescence_340_450         fluorescent and 340 <= lambda_em <= 450
  Fluorescence_more_than_480   fluorescent and lambda_em > 480
Auxiliary targets: transmittance (%) at 340 / 450 nm of a band A(l) = 0.3 sqrt(n) (flat below lambda_abs, Gaussian
above, width 40 nm), T = 100 * 10^-A, plus N(0, 2) noise; wl_pred_nm = lambda_em + N(0, 5) and
qy_pred = clip(0.2 + 0.6 ring fraction - 0.2 push-pull + N(0, 0.05)) for fluorescent molecules only (missing
otherwise).
"""

import numpy as np
from rdkit import Chem

PLANAR_RMS = 0.25  # Å
TWIST_FACTOR = 0.6
PUSH_PULL_SHIFT = 60.0
AZO_SHIFT = 40.0

DONORS = [Chem.MolFromSmarts(s) for s in ("[NX3;H2,H1,H0;!$(N-C=O);!$(N-S=O);!$(N=*);!$([N+])]-a",
                                          "[OX2H]-a", "[OX2](-[CH3])-a", "[NX3;!$(N-C=O)]-C=C")]
ACCEPTORS = [Chem.MolFromSmarts(s) for s in ("[N+](=O)[O-]", "[CX3]=O", "C#N", "[n+,N+;!$([N+][O-])]",
                                             "S(=O)(=O)", "[B-]")]
NITRO = Chem.MolFromSmarts("[N+](=O)[O-]")
AZO = Chem.MolFromSmarts("[#6]N=N[#6]")
HEAVY_HALOGEN = Chem.MolFromSmarts("[Br,I]")


def conjugated_system(mol) -> list:
    """Atom indices of the largest set of atoms connected by conjugated bonds (empty when there is none)."""
    parent = list(range(mol.GetNumAtoms()))

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    members = set()
    for bond in mol.GetBonds():
        if bond.GetIsConjugated():
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            parent[root(i)] = root(j)
            members.update((i, j))
    groups = {}
    for atom in sorted(members):
        groups.setdefault(root(atom), []).append(atom)
    return max(groups.values(), key=len) if groups else []


def plane_rms(coordinates: np.ndarray, atoms: list) -> np.ndarray:
    """RMS distance (Å) of `atoms` from their best-fitting plane, per conformer: coordinates (n, atoms, 3) -> (n,)."""
    points = coordinates[:, atoms, :].astype(np.float64)
    points = points - points.mean(axis=1, keepdims=True)
    smallest = np.linalg.svd(points, compute_uv=False)[:, -1]
    return smallest / np.sqrt(len(atoms))


def _touches(mol, patterns, atoms: set) -> bool:
    return any(atoms.intersection(match) for pattern in patterns for match in mol.GetSubstructMatches(pattern))


def simulate_labels(canonical_smiles: str, coordinates: np.ndarray, rng: np.random.Generator) -> dict:
    """The rule above for one molecule; returns labels, auxiliary targets and the conformer bookkeeping."""
    mol = Chem.MolFromSmiles(canonical_smiles)
    atoms = conjugated_system(mol)
    n = len(atoms)
    system = set(atoms)
    if n >= 3:
        rms = plane_rms(coordinates, atoms)
    else:
        rms = np.zeros(len(coordinates))  # no conjugated system to bend
    planar = rms < PLANAR_RMS
    planar_any = bool(planar.any()) and n >= 3
    push_pull = _touches(mol, DONORS, system) and _touches(mol, ACCEPTORS, system)
    azo = _touches(mol, [AZO], system)
    quencher = mol.HasSubstructMatch(NITRO) or azo or mol.HasSubstructMatch(HEAVY_HALOGEN)
    ring_fraction = sum(mol.GetAtomWithIdx(a).IsInRing() for a in atoms) / n if n else 0.0
    length = n if planar_any else TWIST_FACTOR * n
    lambda_abs = 150.0 + 33.0 * length ** 0.7 + PUSH_PULL_SHIFT * push_pull + AZO_SHIFT * azo if n else 150.0
    fluorescent = (not quencher) and n >= 10 and ring_fraction >= 0.75 and planar_any
    lambda_em = lambda_abs + 25.0 + 45.0 * push_pull

    def transmittance(wavelength):
        absorbance = 0.3 * np.sqrt(n) * (1.0 if wavelength <= lambda_abs else np.exp(-((wavelength - lambda_abs) / 40.0) ** 2))
        return float(np.clip(100.0 * 10 ** (-absorbance) + rng.normal(0, 2.0), 0.0, 100.0))

    labels = [float(lambda_abs >= 340), float(lambda_abs >= 450),
              float(fluorescent and 340 <= lambda_em <= 450), float(fluorescent and lambda_em > 480)]
    nan = float("nan")
    return {
        "labels": labels,
        "Transmittance_340_quantitative": transmittance(340.0),
        "Transmittance_450_quantitative": transmittance(450.0),
        "wl_pred_nm": float(lambda_em + rng.normal(0, 5.0)) if fluorescent else nan,
        "qy_pred": float(np.clip(0.2 + 0.6 * ring_fraction - 0.2 * push_pull + rng.normal(0, 0.05), 0.01, 0.99)) if fluorescent else nan,
        "conjugated_atoms": n,
        "lambda_abs": float(lambda_abs),
        "planar_conformers": [int(i) for i in np.flatnonzero(planar)] if n >= 3 else [],
        "responsible_conformer": int(np.argmin(rms)) if planar_any else -1,
        # MIL matters for this molecule: some conformers are planar, others are not
        "conformer_dependent": bool(planar_any and not planar.all()),
    }
