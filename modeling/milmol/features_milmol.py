"""
The feature layout of milmol: which RDKit descriptors, in which order, make the 2D vector and the per-conformer
3D vector. Pure Python (no RDKit): the config, the featurizer and the readers all take the order from here.

2D vector (one per molecule), in this order:
    DESCRIPTORS_2D        named `rdkit.Chem.Descriptors` functions (physico-chemistry, topology, fragments)
    Morgan fingerprint    `fingerprint_bits` bits of radius `fingerprint_radius` (ECFP-like, bit vector)
3D vector (one per conformer), in this order, each group expanded to its length:
    DESCRIPTORS_3D        `rdkit.Chem.rdMolDescriptors.Calc<name>(mol, confId=...)`; scalar shape descriptors
                          (principal moments, normalised PMI ratios, radius of gyration, plane of best fit, ...)
                          and vector distribution descriptors (AUTOCORR3D, RDF, MORSE, WHIM, GETAWAY)
Every value is passed through the signed log transform sign(x) * log1p(|x|) (descriptors span 1e-3 .. 1e4;
the model's encoders start with a LayerNorm); non-finite values (a descriptor RDKit cannot compute) become 0.
"""

import math

DESCRIPTORS_2D = (
    "MolWt", "HeavyAtomCount", "NumValenceElectrons", "MolLogP", "MolMR", "TPSA", "LabuteASA",
    "NumHDonors", "NumHAcceptors", "NHOHCount", "NOCount", "NumHeteroatoms", "NumRotatableBonds",
    "RingCount", "NumAromaticRings", "NumAliphaticRings", "NumSaturatedRings", "FractionCSP3",
    "BertzCT", "BalabanJ", "HallKierAlpha", "Kappa1", "Kappa2", "Kappa3",
    "Chi0v", "Chi1v", "Chi2v", "Chi3v", "Chi4v", "qed",
    "fr_azo", "fr_nitro", "fr_nitro_arom", "fr_aniline", "fr_phenol", "fr_ketone", "fr_ester", "fr_ether",
    "fr_halogen", "fr_Ar_N", "fr_Ar_OH", "fr_benzene", "fr_nitrile", "fr_quatN", "fr_C_O", "fr_amide",
)

# Scalar 3D shape descriptors (length 1) and vector ones with their fixed RDKit lengths.
SHAPE_3D = ("PMI1", "PMI2", "PMI3", "NPR1", "NPR2", "RadiusOfGyration", "InertialShapeFactor", "Eccentricity",
            "Asphericity", "SpherocityIndex", "PBF")
VECTOR_3D = {"AUTOCORR3D": 80, "RDF": 210, "MORSE": 224, "WHIM": 114, "GETAWAY": 273}
DESCRIPTORS_3D = SHAPE_3D + ("AUTOCORR3D", "RDF")


def descriptor_length(name: str) -> int:
    if name in SHAPE_3D:
        return 1
    if name in VECTOR_3D:
        return VECTOR_3D[name]
    raise ValueError(f"unknown 3D descriptor {name!r}; known: {', '.join(SHAPE_3D + tuple(VECTOR_3D))}")


def feature_names_2d(descriptors=DESCRIPTORS_2D, fingerprint_bits: int = 1024) -> list:
    return list(descriptors) + [f"morgan_{i}" for i in range(fingerprint_bits)]


def feature_names_3d(descriptors=DESCRIPTORS_3D) -> list:
    names = []
    for name in descriptors:
        length = descriptor_length(name)
        names += [name] if length == 1 else [f"{name}_{i}" for i in range(length)]
    return names


def signed_log1p(value: float) -> float:
    """sign(x) * log1p(|x|); 0 for NaN / inf."""
    if not math.isfinite(value):
        return 0.0
    return math.copysign(math.log1p(abs(value)), value)
