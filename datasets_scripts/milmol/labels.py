"""
The simulated labelling rule of the embedded milmol data: optical properties from the 2D structure AND from a
property only some conformers have (a folded conformer that brings two separate pi systems into contact: the
precursor of an intramolecular exciplex / excimer or of a ground-state charge-transfer complex), so that
multiple-instance pooling matters and the conformers responsible for a label are known.

For a molecule (RDKit, heavy atoms) with conformers (heavy-atom coordinates from the featurizer):
  pi units             the connected sets of atoms joined by conjugated bonds (RDKit's flag) that hold an aromatic
                       ring; the largest is the main chromophore (n atoms). A saturated linker separates units.
  contact              in a conformer, two units touch when some heavy atom of one lies within CONTACT_DISTANCE Å of
                       one of the other (C...C van der Waals contact 3.4 Å + tolerance), counting only atom pairs at
                       least MIN_CONTACT_BONDS bonds apart (so neighbours across a short linker do not count). ETKDG
                       folds a 2-3 atom linker into contact in roughly one conformer in eight, a 4-atom one rarely
                       (Hirayama's n = 3 rule for intramolecular excimers).
  unit roles           strong donor: an amino group on the unit or a pyrrole-type aromatic N (carbazole, indole);
                       weak donor: OH / OMe on the unit; acceptor groups: nitro, nitrile, cationic N (count);
                       fluorophore: >= 10 atoms, >= 75 % of them in rings.
  absorption (2D)      lambda_abs = 150 + 33 * L ** 0.7 nm for the main chromophore, + PUSH_PULL_SHIFT with a donor
                       and an acceptor on it, + AZO_SHIFT for an azo group in it; L = n, or with a biaryl link (a
                       single bond between two aromatic rings, twisted in solution) its largest fused ring system
                       + TWIST_FACTOR * the rest
  CT band (contact)    a donor unit (strong, weak, or an arene of >= 10 atoms) touching a unit with acceptor groups
                       absorbs at lambda_CT = 380 + 40 min(acceptors, 2) + 40 [strong donor] + 20 [donor >= 10 atoms];
                       the molecule absorbs at max(lambda_abs, lambda_CT of pairs in contact in some conformer)
  monomer emission     no quencher (nitro, azo, Br, I), main chromophore >= 10 atoms and >= 75 % in rings;
  (2D)                 lambda_em = lambda_abs + 25 (+ 45 with push-pull: charge-transfer Stokes shift)
  exciplex / excimer   no quencher, a fluorophore unit touching a strong donor (lambda_em(F) + EXCIPLEX_SHIFT), a weak
  (contact)            donor (+ WEAK_EXCIPLEX_SHIFT) or a fluorophore of its own size (excimer, + EXCIMER_SHIFT), with
                       lambda_em(F) = 150 + 33 * n_F ** 0.7 + 25 (e.g. pyrene 405 -> pyrene/dimethylaniline exciplex
                       515 nm, pyrene excimer 485 nm; naphthalene 340 -> 450 nm)
  quenching (contact)  a donor or an acceptor unit touching the main chromophore quenches its monomer emission
                       (photo-induced electron transfer / exciplex formation); an excimer partner leaves dual emission
Tasks (EUOS25 names; 1 = positive):
  Transmittance_340            the molecule absorbs at 340 nm: max absorption >= 340 nm
  Transmittance_450            max absorption >= 450 nm
  Fluorescence_340_450         a monomer or exciplex band with its maximum in 340..450 nm
  Fluorescence_more_than_480   a monomer or exciplex band above 480 nm
A task is conformer-dependent for a molecule when its label differs from the label computed with no conformer in
contact (a band added, or the monomer band quenched); the conformers where a label-changing pair touches are the
responsible ones (`responsible_mask`; the closest contact is the `responsible_conformer`).
Auxiliary targets: transmittance (%) at 340 / 450 nm of a band A(l) = 0.3 sqrt(n) (flat below the absorption
maximum, Gaussian above, width 40 nm), T = 100 * 10^-A, plus N(0, 2) noise; wl_pred_nm = the reddest emission band
+ N(0, 5) and qy_pred = clip(0.2 + 0.6 ring fraction - 0.2 push-pull - 0.1 exciplex + N(0, 0.05)) for fluorescent
molecules only (missing otherwise).
"""

import numpy as np
from rdkit import Chem

CONTACT_DISTANCE = 3.8  # Å
MIN_CONTACT_BONDS = 5
PUSH_PULL_SHIFT = 60.0
AZO_SHIFT = 40.0
EXCIPLEX_SHIFT = 110.0
WEAK_EXCIPLEX_SHIFT = 50.0
EXCIMER_SHIFT = 80.0
TWIST_FACTOR = 0.5

STRONG_DONORS = [Chem.MolFromSmarts(s) for s in ("[NX3;H2,H1,H0;!$(N-C=O);!$(N-S=O);!$(N=*);!$([N+])]-a",
                                                 "[NX3;!$(N-C=O)]-C=C", "[nX3;!$([n+])]")]
WEAK_DONORS = [Chem.MolFromSmarts(s) for s in ("[OX2H]-a", "[OX2](-[CH3])-a")]
DONORS = STRONG_DONORS[:2] + WEAK_DONORS  # substituent donors of push-pull chromophores
ACCEPTORS = [Chem.MolFromSmarts(s) for s in ("[N+](=O)[O-]", "[CX3]=O", "C#N", "[n+,N+;!$([N+][O-])]",
                                             "S(=O)(=O)", "[B-]")]
CT_ACCEPTORS = [Chem.MolFromSmarts(s) for s in ("[N+](=O)[O-]", "C#N", "[n+,N+;!$([N+][O-])]")]
NITRO = Chem.MolFromSmarts("[N+](=O)[O-]")
AZO = Chem.MolFromSmarts("[#6]N=N[#6]")
HEAVY_HALOGEN = Chem.MolFromSmarts("[Br,I]")


def conjugated_systems(mol) -> list:
    """Atom-index lists of the sets of atoms connected by conjugated bonds, largest first."""
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
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def conjugated_system(mol) -> list:
    """Atom indices of the largest conjugated system (empty when there is none)."""
    systems = conjugated_systems(mol)
    return systems[0] if systems else []


def pi_units(mol) -> list:
    """The conjugated systems that hold an aromatic atom (the units that can touch through space)."""
    return [s for s in conjugated_systems(mol) if any(mol.GetAtomWithIdx(a).GetIsAromatic() for a in s)]


def contact_distances(mol, coordinates: np.ndarray, unit_a: list, unit_b: list) -> np.ndarray:
    """Per conformer, the closest heavy-atom distance (Å) between two units over atom pairs >= MIN_CONTACT_BONDS apart."""
    bonds = Chem.GetDistanceMatrix(mol)[np.ix_(unit_a, unit_b)]
    far = bonds >= MIN_CONTACT_BONDS
    if not far.any():
        return np.full(len(coordinates), np.inf)
    ia, ib = np.nonzero(far)
    a = coordinates[:, np.asarray(unit_a)[ia], :].astype(np.float64)
    b = coordinates[:, np.asarray(unit_b)[ib], :].astype(np.float64)
    return np.linalg.norm(a - b, axis=-1).min(axis=1)


def _touches(mol, patterns, atoms) -> bool:
    atoms = set(atoms)
    return any(atoms.intersection(match) for pattern in patterns for match in mol.GetSubstructMatches(pattern))


def _count(mol, patterns, atoms) -> int:
    atoms = set(atoms)
    return sum(bool(atoms.intersection(match)) for pattern in patterns for match in mol.GetSubstructMatches(pattern))


def _ring_fraction(mol, atoms) -> float:
    return sum(mol.GetAtomWithIdx(a).IsInRing() for a in atoms) / len(atoms) if atoms else 0.0


def _has_biaryl_link(mol, atoms) -> bool:
    """A single bond outside rings joining two aromatic atoms of the system (a biaryl link, twisted in solution)."""
    atoms = set(atoms)
    return any(b.GetBondType() == Chem.BondType.SINGLE and not b.IsInRing() and b.GetBeginAtom().GetIsAromatic()
               and b.GetEndAtom().GetIsAromatic() and {b.GetBeginAtomIdx(), b.GetEndAtomIdx()} <= atoms for b in mol.GetBonds())


def _outside_largest_ring_system(mol, atoms) -> int:
    """Atoms of the system outside its largest fused ring system."""
    rings = [set(r) for r in mol.GetRingInfo().AtomRings() if set(r) <= set(atoms)]
    systems = []
    for ring in rings:
        merged = [s for s in systems if s & ring]
        for s in merged:
            systems.remove(s)
            ring = ring | s
        systems.append(ring)
    return len(atoms) - max((len(s) for s in systems), default=0)


def _band(n: float) -> float:
    return 150.0 + 33.0 * n ** 0.7


def _unit_roles(mol, unit: list, main: bool = False) -> dict:
    n = len(unit)
    return {"n": n, "main": main, "strong_donor": _touches(mol, STRONG_DONORS, unit), "weak_donor": _touches(mol, WEAK_DONORS, unit),
            "acceptors": _count(mol, CT_ACCEPTORS, unit), "fluorophore": n >= 10 and _ring_fraction(mol, unit) >= 0.75,
            "emission": _band(n) + 25.0}


def pair_effects(a: dict, b: dict, quencher: bool) -> dict:
    """
    What two units in contact do: a CT absorption band and an exciplex / excimer emission band (nm, or None), and
    whether the contact quenches the main chromophore's monomer emission (a donor or an acceptor touching it:
    photo-induced electron transfer / exciplex formation; an excimer partner leaves dual emission).
    """
    quench = any(f["main"] and (p["strong_donor"] or p["weak_donor"] or p["acceptors"]) for f, p in ((a, b), (b, a)))
    ct = None
    for donor, acceptor in ((a, b), (b, a)):
        is_donor = donor["strong_donor"] or donor["weak_donor"] or (donor["n"] >= 10 and not donor["acceptors"])
        if is_donor and acceptor["acceptors"]:
            band = 380.0 + 40.0 * min(acceptor["acceptors"], 2) + 40.0 * donor["strong_donor"] + 20.0 * (donor["n"] >= 10)
            ct = band if ct is None else max(ct, band)
    emission = None
    if not quencher:
        for fluor, partner in ((a, b), (b, a)):
            if not fluor["fluorophore"] or fluor["acceptors"]:
                continue
            if partner["strong_donor"]:
                band = fluor["emission"] + EXCIPLEX_SHIFT
            elif partner["weak_donor"]:
                band = fluor["emission"] + WEAK_EXCIPLEX_SHIFT
            elif partner["fluorophore"] and partner["n"] == fluor["n"]:
                band = fluor["emission"] + EXCIMER_SHIFT
            else:
                continue
            emission = band if emission is None else max(emission, band)
    return {"ct": ct, "emission": emission, "quench": quench}


def _labels(absorption: float, bands: list) -> list:
    return [float(absorption >= 340), float(absorption >= 450), float(any(340 <= b <= 450 for b in bands)),
            float(any(b > 480 for b in bands))]


def simulate_labels(canonical_smiles: str, coordinates: np.ndarray, rng: np.random.Generator) -> dict:
    """The rule above for one molecule; returns labels, auxiliary targets and the conformer bookkeeping."""
    mol = Chem.MolFromSmiles(canonical_smiles)
    n_conformers = len(coordinates)
    atoms = conjugated_system(mol)
    n = len(atoms)
    push_pull = _touches(mol, DONORS, atoms) and _touches(mol, ACCEPTORS, atoms)
    azo = _touches(mol, [AZO], atoms)
    quencher = mol.HasSubstructMatch(NITRO) or mol.HasSubstructMatch(AZO) or mol.HasSubstructMatch(HEAVY_HALOGEN)
    ring_fraction = _ring_fraction(mol, atoms)
    length = n - (1.0 - TWIST_FACTOR) * _outside_largest_ring_system(mol, atoms) if _has_biaryl_link(mol, atoms) else n
    lambda_abs = _band(length) + PUSH_PULL_SHIFT * push_pull + AZO_SHIFT * azo if n else 150.0
    monomer = (not quencher) and n >= 10 and ring_fraction >= 0.75
    monomer_bands = [lambda_abs + 25.0 + 45.0 * push_pull] if monomer else []

    units = pi_units(mol)
    roles = [_unit_roles(mol, u, main=set(u) == set(atoms)) for u in units]
    touching = np.zeros(n_conformers, dtype=bool)  # any two units in contact (the conformer property)
    pairs = []  # (contact distances per conformer, effects) of pairs in contact in some conformer
    for i in range(len(units)):
        for j in range(i):
            distance = contact_distances(mol, coordinates, units[i], units[j])
            contact = distance <= CONTACT_DISTANCE
            touching |= contact
            if contact.any():
                pairs.append((distance, pair_effects(roles[i], roles[j], quencher)))
    ct_bands = [e["ct"] for _, e in pairs if e["ct"] is not None]
    exciplex_bands = [e["emission"] for _, e in pairs if e["emission"] is not None]
    absorption = max([lambda_abs] + ct_bands)
    quenched = any(e["quench"] for _, e in pairs)
    labels = _labels(absorption, ([] if quenched else monomer_bands) + exciplex_bands)
    without_contact = _labels(lambda_abs, monomer_bands)
    dependent_tasks = [float(a != b) for a, b in zip(labels, without_contact)]

    responsible = np.zeros(n_conformers, dtype=bool)
    closest = np.full(n_conformers, np.inf)
    if any(dependent_tasks):
        for distance, effects in pairs:  # pairs whose contact alone changes a label
            alone = _labels(max([lambda_abs] + ([effects["ct"]] if effects["ct"] else [])),
                            ([] if effects["quench"] else monomer_bands) + ([effects["emission"]] if effects["emission"] else []))
            if alone != without_contact:
                contact = distance <= CONTACT_DISTANCE
                responsible |= contact
                closest = np.where(contact, np.minimum(closest, distance), closest)
    bands = ([] if quenched else monomer_bands) + exciplex_bands
    fluorescent = bool(bands)
    emission = max(bands) if fluorescent else float("nan")

    def transmittance(wavelength):
        absorbance = 0.3 * np.sqrt(n) * (1.0 if wavelength <= absorption else np.exp(-((wavelength - absorption) / 40.0) ** 2))
        return float(np.clip(100.0 * 10 ** (-absorbance) + rng.normal(0, 2.0), 0.0, 100.0))

    nan = float("nan")
    qy = 0.2 + 0.6 * ring_fraction - 0.2 * push_pull - 0.1 * bool(exciplex_bands) + rng.normal(0, 0.05)
    return {
        "labels": labels,
        "Transmittance_340_quantitative": transmittance(340.0),
        "Transmittance_450_quantitative": transmittance(450.0),
        "wl_pred_nm": float(emission + rng.normal(0, 5.0)) if fluorescent else nan,
        "qy_pred": float(np.clip(qy, 0.01, 0.99)) if fluorescent else nan,
        "conjugated_atoms": n,
        "lambda_abs": float(absorption),
        "contact_conformers": [int(i) for i in np.flatnonzero(touching)],
        "responsible_conformers": [int(i) for i in np.flatnonzero(responsible)],
        "responsible_conformer": int(np.argmin(closest)) if responsible.any() else -1,
        "dependent_tasks": dependent_tasks,
        # MIL matters for this molecule: a label rests on a contact that some conformers make and others do not
        "conformer_dependent": bool(responsible.any() and not responsible.all()),
    }
