"""
Embedded generator of miRNA-mRNA pairs: 3'UTR-like sequences with planted sites of real and generated
miRNAs, built so the task is solvable only by learning miRNA targeting rules.

Background: 3'UTR composition (A .29, U .31, G .19, C .21), AU-rich elements (AUUUA) at about one per
200 nt, and in 60% of sequences the poly-A signal AAUAAA 10-30 nt before the 3' end.

miRNAs: the real human miRNAs of `human_mirnas.tsv` plus generated 22-nt miRNAs with distinct seeds, so
there are thousands of families (family = seed m2-m8). Splits are family-disjoint (`splits.py`): test
seeds never occur in training or validation; the let-7, miR-1/206, miR-21, miR-122 and miR-155 families
are always in test.

Positives (label 1) carry exactly one planted site (`POSITIVE_MIX`): the five canonical TargetScan types
of `sites_mirlm` (8mer, 7mer-m8, 7mer-A1, 6mer, offset-6mer) and 20% "non-canonical" sites: the 8-nt
seed match (m2-m8 + A1) with one mismatch or one G:U wobble at m3-m7, compensated by 3' pairing to
m13-m17..m19 that ends 3-7 nt upstream of the seed match (a continuous duplex would leave 4 nt for
m9-m12). `site_start`/`site_end` are the 0-based inclusive span of the seed-pairing region, A1 included
where the site has one.

Negatives (label 0, `NEGATIVE_MIX`): "near-mismatch" and "near-wobble" (the same 8-nt near-site as a
non-canonical positive but with no 3' pairing: only 3' compensation tells them apart), "near-shifted"
(reverse complement of m4-m10, a seed match shifted by two) and "none" (background; 30% of them carry
an isolated 3'-pairing segment without any seed pairing, so 3' pairing alone predicts nothing).
Every row is scanned with `sites_mirlm.find_sites` and mutated until negatives hold no canonical site and
positives exactly the planted one.

Baseline by construction: canonical sites are 80% of positives and negatives have none, so the seed-match
baseline scores AUROC ~0.90 (it cannot see non-canonical sites) and recall 0.60 at its 7mer-A1 threshold.

Sizes (`SIZES`): "tiny" (600 rows, 60-160 nt, for tests), "demo" (12k/1.5k/1.5k, 80-300 nt: short enough
for a few minutes of CPU training), "full" (80k/10k/10k, 100-519 nt: the model's full window). Building
takes about 0.03 s / 1 s / 7 s on one CPU core (no progress bar needed).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modeling.mirlm.sites_mirlm import SITE_TYPES, Site, find_sites, reverse_complement
from modeling.mirlm.sites_mirlm import seed as seed_of
from .splits import SPLIT_NAMES, family_disjoint_split

HUMAN_MIRNAS = Path(__file__).with_name("human_mirnas.tsv")

BASES = "ACGT"
UTR_COMPOSITION = (0.29, 0.21, 0.19, 0.31)  # A, C, G, T
ARE, POLY_A_SIGNAL = "ATTTA", "AATAAA"
ARE_PER_NT, POLY_A_FRACTION = 1 / 200, 0.6

POSITIVE_FRACTION = 0.5
POSITIVE_MIX = {"8mer": 0.20, "7mer-m8": 0.22, "7mer-A1": 0.18, "6mer": 0.12, "offset-6mer": 0.08,
                "non-canonical": 0.20}
NEGATIVE_MIX = {"none": 0.40, "near-mismatch": 0.25, "near-wobble": 0.20, "near-shifted": 0.15}
DECOY_3P_FRACTION = 0.3  # of "none" negatives: an isolated 3'-pairing segment
THREE_PRIME_LENGTHS = (5, 6, 7)  # pairing to m13..m17 / m18 / m19
THREE_PRIME_GAPS = (3, 4, 5, 6, 7)  # mRNA nt between the 3' segment and the seed match
TEST_FAMILIES = ("let-7", "miR-1/206", "miR-21", "miR-122", "miR-155")
MAX_ATTEMPTS = 40

# mRNA bases opposite a miRNA base: Watson-Crick partner and G:U wobble partner (miRNA G-U, U-G).
WC_PARTNER = {"A": "T", "C": "G", "G": "C", "T": "A"}
WOBBLE_PARTNER = {"G": "T", "T": "G"}


@dataclass(frozen=True)
class SizePreset:
    n_train: int
    n_validation: int
    n_test: int
    n_generated_mirnas: int
    min_len: int
    max_len: int

    @property
    def n_examples(self):
        return {"train": self.n_train, "validation": self.n_validation, "test": self.n_test}


SIZES = {
    "tiny": SizePreset(400, 100, 100, 150, 60, 160),
    "demo": SizePreset(12_000, 1_500, 1_500, 3_000, 80, 300),
    "full": SizePreset(80_000, 10_000, 10_000, 10_000, 100, 519),
}


@dataclass(frozen=True)
class MiRNA:
    name: str
    sequence: str  # DNA alphabet
    family: str  # seed m2-m8 (DNA)
    family_name: str  # readable family ("let-7"; the name itself for generated miRNAs)


def load_human_mirnas(path=HUMAN_MIRNAS) -> list:
    """The real human miRNAs shipped with the package (miRBase mature sequences)."""
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        out = []
        for row in rows:
            sequence = row["sequence"].upper().replace("U", "T")
            if seed_of(sequence) != row["seed"].upper().replace("U", "T"):
                raise ValueError(f"{path}: seed column of {row['name']} is not nucleotides 2-8 of its sequence")
            out.append(MiRNA(row["name"], sequence, seed_of(sequence), row["family"]))
    return out


def _low_complexity(seed_: str) -> bool:
    return len(set(seed_)) < 3 or any(b * 4 in seed_ for b in BASES)


def generate_mirnas(n: int, rng: np.random.Generator, taken_seeds=()) -> list:
    """`n` generated 22-nt miRNAs whose seeds are distinct from each other and from `taken_seeds`."""
    taken, out = set(taken_seeds), []
    while len(out) < n:
        draws = rng.integers(0, 4, size=(2 * (n - len(out)) + 16, 22))
        draws[:, 0] = rng.choice(4, size=len(draws), p=(0.3, 0.1, 0.1, 0.5))  # m1 is mostly U or A
        for row in draws:
            sequence = "".join(BASES[i] for i in row)
            s = seed_of(sequence)
            if s in taken or _low_complexity(s):
                continue
            taken.add(s)
            out.append(MiRNA(f"syn-miR-{len(out) + 1:05d}", sequence, s, f"syn-miR-{len(out) + 1:05d}"))
            if len(out) == n:
                break
    return out


def _backgrounds(lengths: np.ndarray, rng: np.random.Generator) -> list:
    """3'UTR-like backgrounds (vectorised draw), with AREs and a poly-A signal near the 3' end."""
    flat = np.frombuffer(BASES.encode(), dtype=np.uint8)[rng.choice(4, size=int(lengths.sum()), p=UTR_COMPOSITION)]
    chunks = np.split(flat, np.cumsum(lengths)[:-1])
    out = []
    for chunk in chunks:
        seq = list(chunk.tobytes().decode())
        for _ in range(rng.poisson(len(seq) * ARE_PER_NT)):
            i = int(rng.integers(0, len(seq) - len(ARE) + 1))
            seq[i:i + len(ARE)] = ARE
        if rng.random() < POLY_A_FRACTION and len(seq) >= 40:
            i = len(seq) - len(POLY_A_SIGNAL) - int(rng.integers(10, 31))
            seq[i:i + len(POLY_A_SIGNAL)] = POLY_A_SIGNAL
        out.append(seq)
    return out


def _other_base(rng, avoid) -> str:
    return str(rng.choice([b for b in BASES if b not in avoid]))


def _seed_near_site(mirna: str, q: int, change: str, rng):
    """
    The 8-nt seed match RC(m2..m8) + A1 ending at q+1, with one mismatch or G:U wobble at m3-m7.
    Returns {mRNA index: base} or None when the miRNA has no G/U at m3-m7 for a wobble.
    """
    bases = {q - (k - 2): WC_PARTNER[mirna[k - 1]] for k in range(2, 9)}
    bases[q + 1] = "A"
    if change == "wobble":
        choices = [k for k in range(3, 8) if mirna[k - 1] in WOBBLE_PARTNER]
        if not choices:
            return None
        k = int(rng.choice(choices))
        bases[q - (k - 2)] = WOBBLE_PARTNER[mirna[k - 1]]
    else:
        k = int(rng.integers(3, 8))
        m = mirna[k - 1]
        bases[q - (k - 2)] = _other_base(rng, {WC_PARTNER[m], WOBBLE_PARTNER.get(m)})
    return bases


def _three_prime(mirna: str, right: int, rng) -> dict:
    """RC of m13..m(12+n) with its m13 partner at mRNA index `right` (pairing runs leftwards)."""
    n = min(int(rng.choice(THREE_PRIME_LENGTHS)), len(mirna) - 12)
    return {right - j: WC_PARTNER[mirna[12 + j]] for j in range(n)}


def _plant(kind: str, mirna: str, length: int, rng):
    """Choose where and what to write for `kind`: ({index: base}, expected Site or None, span) or None."""
    m8_pair, m2_pair = WC_PARTNER[mirna[7]], WC_PARTNER[mirna[1]]
    if kind == "none":
        if rng.random() >= DECOY_3P_FRACTION:
            return {}, None, (-1, -1)
        right = int(rng.integers(8, length))
        return _three_prime(mirna, right, rng), None, (-1, -1)
    if kind == "near-shifted":
        left = int(rng.integers(0, length - 6))
        return {left + j: b for j, b in enumerate(reverse_complement(mirna[3:10]))}, None, (-1, -1)
    if kind in ("non-canonical", "near-mismatch", "near-wobble"):
        gap, n3 = int(rng.choice(THREE_PRIME_GAPS)), max(THREE_PRIME_LENGTHS)
        low = 6 + gap + n3 if kind == "non-canonical" else 6
        if length - 2 < low:
            return None
        q = int(rng.integers(low, length - 1))
        change = {"near-mismatch": "mismatch", "near-wobble": "wobble"}.get(kind, str(rng.choice(["mismatch", "wobble"])))
        bases = _seed_near_site(mirna, q, change, rng)
        if bases is None:
            return None
        if kind == "non-canonical":
            bases.update(_three_prime(mirna, q - 6 - gap - 1, rng))
            return bases, None, (q - 6, q + 1)
        return bases, None, (-1, -1)
    # Canonical: q pairs with m2; flanks that would upgrade the site are set to non-matching bases.
    q = int(rng.integers(6, length - 1))
    bases = {q - (k - 2): WC_PARTNER[mirna[k - 1]] for k in range(2, 9)}
    if kind == "8mer":
        bases[q + 1] = "A"
        site = Site(q - 6, q + 1, kind)
    elif kind == "7mer-m8":
        bases[q + 1] = _other_base(rng, {"A"})
        site = Site(q - 6, q, kind)
    elif kind == "7mer-A1":
        bases[q - 6], bases[q + 1] = _other_base(rng, {m8_pair}), "A"
        site = Site(q - 5, q + 1, kind)
    elif kind == "6mer":
        bases[q - 6], bases[q + 1] = _other_base(rng, {m8_pair}), _other_base(rng, {"A"})
        site = Site(q - 5, q, kind)
    elif kind == "offset-6mer":
        bases[q] = _other_base(rng, {m2_pair})
        site = Site(q - 6, q - 1, kind)
    else:
        raise ValueError(f"unknown site kind {kind!r}")
    return bases, site, (site.start, site.end)


def _clean(seq: list, mirna: str, keep, protected: set, rng, avoid=()) -> bool:
    """
    Mutate unprotected bases until the only canonical site is `keep` (or none) and no word of `avoid`
    ((word, lo, hi) triples) lies inside [lo, hi]. Returns False when that needs a protected base (the
    caller then draws a new layout).
    """
    for _ in range(MAX_ATTEMPTS):
        text = "".join(seq)
        bad = [s for s in find_sites(text, mirna) if s != keep]
        spans = [(s.start, s.end) for s in bad]
        for word, lo, hi in avoid:
            i = text.find(word, max(lo, 0), hi + 1)
            if i >= 0:
                spans.append((i, i + len(word) - 1))
        if not spans:
            return keep is None or keep in find_sites(text, mirna)
        for start, end in spans:
            free = [i for i in range(start, end + 1) if i not in protected]
            if not free:
                return False
            i = int(rng.choice(free))
            seq[i] = _other_base(rng, {seq[i]})
    return False


def _example(kind: str, mirna: MiRNA, background: list, rng):
    """One row for `kind` on a copy of `background`, or None if this layout failed."""
    seq = list(background)
    planted = _plant(kind, mirna.sequence, len(seq), rng)
    if planted is None:
        return None
    bases, site, (start, end) = planted
    if any(i < 0 or i >= len(seq) for i in bases):
        return None
    for i, b in bases.items():
        seq[i] = b
    # A near-site must not get 3' compensation by chance: no RC(m13..m16) in the 3'-pairing window.
    avoid = ()
    if kind in ("near-mismatch", "near-wobble"):
        reach = 1 + max(THREE_PRIME_GAPS) + max(THREE_PRIME_LENGTHS)
        avoid = ((reverse_complement(mirna.sequence[12:16]), min(bases) - reach, min(bases) - 1),)
    if not _clean(seq, mirna.sequence, site, set(bases), rng, avoid):
        return None
    return {
        "mrna": "".join(seq),
        "mirna": mirna.sequence,
        "mirna_name": mirna.name,
        "mirna_family": mirna.family,
        "label": int(kind in POSITIVE_MIX),
        "site_start": start,
        "site_end": end,
        "site_type": kind,
    }


def generate_examples(n: int, mirnas: list, preset: SizePreset, rng: np.random.Generator, prefix: str) -> dict:
    """`n` rows (column dict) over the given miRNAs; kinds drawn from the two mixes."""
    positive = rng.random(n) < POSITIVE_FRACTION
    kinds = np.where(
        positive,
        rng.choice(list(POSITIVE_MIX), size=n, p=list(POSITIVE_MIX.values())),
        rng.choice(list(NEGATIVE_MIX), size=n, p=list(NEGATIVE_MIX.values())),
    )
    lengths = rng.integers(preset.min_len, preset.max_len + 1, size=n)
    backgrounds = _backgrounds(lengths, rng)
    columns = {key: [] for key in ("mrna", "mirna", "mirna_name", "mirna_family", "label", "site_start",
                                   "site_end", "site_type", "transcript_id")}
    for i in range(n):
        row = None
        for _ in range(MAX_ATTEMPTS):
            mirna = mirnas[int(rng.integers(len(mirnas)))]
            row = _example(str(kinds[i]), mirna, backgrounds[i], rng)
            if row is not None:
                break
            backgrounds[i] = _backgrounds(lengths[i:i + 1], rng)[0]
        if row is None:
            raise RuntimeError(f"could not plant a {kinds[i]} site in {MAX_ATTEMPTS} attempts")
        row["transcript_id"] = f"synthetic-{prefix}-{i:06d}"
        for key, value in row.items():
            columns[key].append(value)
    return columns


def generate_splits(size: str = "demo", seed: int = 0) -> dict:
    """{"train" | "validation" | "test": column dict}, miRNA-family-disjoint, deterministic in `seed`."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {tuple(SIZES)}")
    preset = SIZES[size]
    pool_rng, *split_rngs = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    real = load_human_mirnas()
    mirnas = real + generate_mirnas(preset.n_generated_mirnas, pool_rng, {m.family for m in real})
    forced = {"test": sorted({m.family for m in real if m.family_name in TEST_FAMILIES})}
    split_rows = family_disjoint_split([m.family for m in mirnas], seed=seed, forced=forced)
    return {
        name: generate_examples(preset.n_examples[name], [mirnas[i] for i in split_rows[name]], preset, rng, name)
        for name, rng in zip(SPLIT_NAMES, split_rngs)
    }


def summarize(columns: dict) -> dict:
    """Class balance and site-type mix of one split (for docs and sanity checks)."""
    labels = np.asarray(columns["label"])
    types, counts = np.unique(np.asarray(columns["site_type"]), return_counts=True)
    return {
        "n": int(labels.size),
        "positive_fraction": float(labels.mean()),
        "site_types": {str(t): int(c) for t, c in zip(types, counts)},
        "families": len(set(columns["mirna_family"])),
        "canonical_types": list(SITE_TYPES),
    }
