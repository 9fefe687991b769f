"""
The embedded methylation atlas: a generated stand-in for a WGBS tissue atlas with the structure that made the
design notes' problem hard and their fix work.

- 22 tissues (`TISSUES`); several are made of subtypes (`SUBTYPES`: blood of 14 cell types, pancreas of 5, ...).
- Regions of 150 bp, each with 3-25 CpGs in its DNA (CpG islands have more). Region kinds (`REGION_KINDS`):
  housekeeping regions methylated alike in every tissue (unmethylated islands, methylated bodies), donor-variable
  regions (vary per donor, never with the tissue), tissue markers (hypo-, sometimes hypermethylated in one tissue),
  subtype markers (in one subtype only) and group markers (shared by related tissues: GI tract, squamous
  epithelia, brain, muscle, blood and immune).
- Samples: the tissue's profile, mixed with blood (contamination, as in real biopsies), donor shifts and noise;
  one read per CpG call, so a region mean is binomially noisy; a per-sample call rate and whole regions without
  any call (missing, not zero).
- Augmented copies: some samples get 1-3 synthetic copies (the same methylation profile, fresh reads, lower
  coverage), the leakage groups of the notes. `group` names the source sample.

So a single region says little (most are housekeeping, markers are noisy and shared), while a whole sample's
region means identify its tissue: the task is learnable at the sample level and not at the region level.
Calls of sample i are drawn from `numpy.random.default_rng([seed, i])`, so `methylation(i)` is reproducible on
its own and the atlas never has to hold all samples' states at once.
"""

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from tqdm.auto import tqdm

from modeling.tissuebert.configuration_tissuebert import TISSUES
from modeling.tissuebert.tokenization_tissuebert import MISSING, TissueBERTTokenizer, region_means

REGION_LENGTH = 150
SUBTYPES = {
    "Blood": ("B-cell", "T-CD4", "T-CD8", "T-reg", "NK", "Monocyte", "Macrophage", "Granulocyte", "Neutrophil",
              "Eosinophil", "Erythroid-progenitor", "Megakaryocyte", "Dendritic", "Plasma"),
    "Pancreas": ("Acinar", "Duct", "Alpha", "Beta", "Delta"),
    "Lung": ("Alveolar", "Bronchial"),
    "Kidney": ("Tubular", "Glomerular"),
    "Neuron": ("Cortex", "Cerebellum"),
    "Heart": ("Cardiomyocyte", "Cardiac-fibroblast"),
    "Endothelium": ("Vascular", "Sinusoidal"),
    "Colon": ("Left", "Right"),
}
TISSUE_GROUPS = {
    "gi": ("Colon", "Small-Intestine", "Gastric", "Esophagus"),
    "squamous": ("Esophagus", "Epidermis", "Head-Neck"),
    "brain": ("Neuron", "Oligodendrocytes"),
    "muscle": ("Heart", "Skeletal-Muscle"),
    "glandular": ("Breast", "Prostate", "Thyroid", "Pancreas"),
    "mesenchymal": ("Adipocytes", "Bone", "Endothelium"),
}
REGION_KINDS = ("island", "methylated", "donor_variable", "tissue_marker", "subtype_marker", "group_marker")
REGION_KIND_FRACTIONS = (0.30, 0.35, 0.11, 0.14, 0.06, 0.04)  # tuned: logistic regression ~0.92 on demo, as in the notes

# size -> regions, samples per subtype (low, high), fraction of samples with augmented copies
SIZES = {
    "tiny": dict(num_regions=64, samples_per_tissue=(3, 4), augmented_fraction=0.1),
    "demo": dict(num_regions=1000, samples_per_tissue=(14, 26), augmented_fraction=0.08),
    "full": dict(num_regions=4381, samples_per_tissue=(24, 40), augmented_fraction=0.08),  # the notes' chr1 subset
}


@dataclass
class MethylationAtlas:
    """A generated atlas. Per-sample arrays are rows in sample order; per-region arrays are rows in region order."""

    tissues: tuple
    filenames: list
    tissue: list                 # tissue name per sample
    tissue_index: np.ndarray     # (S,) label id
    subtype: list
    group: list                  # leakage group: the source sample's file stem
    augmented: np.ndarray        # (S,) bool
    region_names: list
    region_cpg_ranges: np.ndarray  # (N, 2) [startCpG, endCpG) in the synthetic genome's CpG index
    num_genome_cpgs: int
    dna: list                    # (N,) 150-bp strings
    dna_tokens: np.ndarray       # (N, 150) uint8 3-mer ids
    cpg_mask: np.ndarray         # (N, 150) bool: position is the C of a CpG
    region_kind: np.ndarray      # (N,) index into REGION_KINDS
    betas: np.ndarray            # (S, N) true methylation level of each sample's regions
    call_rate: np.ndarray        # (S,) probability that a CpG gets a call
    region_dropout: np.ndarray   # (S,) probability that a region has no call at all
    seed: int
    _cpg_offset: np.ndarray = field(repr=False, default=None)

    @property
    def num_samples(self) -> int:
        return len(self.filenames)

    @property
    def num_regions(self) -> int:
        return len(self.region_names)

    def methylation(self, i: int) -> np.ndarray:
        """(N, 150) uint8 states of sample `i`: 0 / 1 at called CpGs, 2 elsewhere (deterministic in seed and i)."""
        rng = np.random.default_rng([self.seed, int(i)])
        level = np.clip(self.betas[i][:, None] + self._cpg_offset, 0.005, 0.995)
        called = self.cpg_mask & (rng.random(self.cpg_mask.shape) < self.call_rate[i])
        called &= (rng.random(self.num_regions) >= self.region_dropout[i])[:, None]
        states = np.where(rng.random(self.cpg_mask.shape) < level, 1, 0).astype(np.uint8)
        states[~called] = MISSING
        return states

    def region_features(self, progress: bool = True) -> tuple:
        """(means, coverage), both (S, N) float32: mean over the valid calls (NaN = no call) and number of calls."""
        means = np.empty((self.num_samples, self.num_regions), dtype=np.float32)
        coverage = np.empty_like(means)
        for i in tqdm(range(self.num_samples), desc="region means", disable=not progress, leave=False):
            means[i], coverage[i] = region_means(self.methylation(i))
        return means, coverage


def _region_dna(rng, num_regions: int, kinds: np.ndarray) -> tuple:
    """DNA strings and CpG masks: background without accidental CpGs, then 3-25 CpGs per region (islands more)."""
    codes = rng.choice(4, size=(num_regions, REGION_LENGTH), p=(0.29, 0.21, 0.21, 0.29))  # A C G T, AT-rich
    accidental = (codes[:, :-1] == 1) & (codes[:, 1:] == 2)
    codes[:, 1:][accidental] = 0  # CG -> CA
    mask = np.zeros((num_regions, REGION_LENGTH), dtype=bool)
    slots = np.arange(0, REGION_LENGTH - 2, 2)
    for r in range(num_regions):
        count = int(np.clip(rng.poisson(14 if kinds[r] == 0 else 7) + 3, 3, 25))
        positions = rng.choice(slots, size=count, replace=False) + rng.integers(0, 2)
        mask[r, positions] = True
        codes[r, positions], codes[r, positions + 1] = 1, 2
    dna = ["".join("ACGT"[c] for c in row) for row in codes]
    return dna, mask


def _tissue_profiles(rng, kinds: np.ndarray, subtypes: list) -> tuple:
    """(subtype profiles (K, N), donor-variable mask): every subtype's methylation level of every region."""
    num_regions = len(kinds)
    tissue_of = np.array([TISSUES.index(t) for t, _ in subtypes])
    background = np.where(kinds == 0, rng.uniform(0.02, 0.12, num_regions), rng.uniform(0.7, 0.92, num_regions))
    profiles = np.tile(background, (len(subtypes), 1))
    for r in np.flatnonzero(kinds == 2):  # donor-variable: no tissue signal at all
        profiles[:, r] = rng.uniform(0.35, 0.65)
    marker_kinds = {3: list(range(len(TISSUES))), 4: list(range(len(subtypes))), 5: list(TISSUE_GROUPS)}
    counters = {kind: 0 for kind in marker_kinds}
    for r in np.flatnonzero(kinds >= 3):
        kind = int(kinds[r])
        targets = marker_kinds[kind]
        target = targets[counters[kind] % len(targets)]  # round robin: every tissue / subtype / group gets markers
        counters[kind] += 1
        if kind == 3:
            hit = tissue_of == target
        elif kind == 4:
            hit = np.arange(len(subtypes)) == target
        else:
            hit = np.isin(tissue_of, [TISSUES.index(t) for t in TISSUE_GROUPS[target]])
        low, high = rng.uniform(0.1, 0.45), rng.uniform(0.55, 0.9)
        hyper = kind == 3 and rng.random() < 0.25  # a quarter of tissue markers gain methylation instead
        profiles[:, r] = np.where(hit, high if hyper else low, low if hyper else high)
    return profiles, tissue_of


def generate_atlas(size: str = "demo", seed: int = 0, num_regions: Optional[int] = None) -> MethylationAtlas:
    """The embedded atlas at `size` ("tiny", "demo", "full"; `SIZES`), deterministic in `seed`."""
    if size not in SIZES:
        raise ValueError(f"unknown atlas size {size!r}; known: {', '.join(SIZES)}")
    spec = SIZES[size]
    num_regions = num_regions or spec["num_regions"]
    rng = np.random.default_rng(seed)
    kinds = rng.choice(len(REGION_KINDS), size=num_regions, p=REGION_KIND_FRACTIONS)
    dna, cpg_mask = _region_dna(rng, num_regions, kinds)
    subtypes = [(t, s) for t in TISSUES for s in SUBTYPES.get(t, (t,))]
    profiles, tissue_of = _tissue_profiles(rng, kinds, subtypes)
    blood = profiles[tissue_of == TISSUES.index("Blood")].mean(axis=0)

    # Samples: every tissue gets `samples_per_tissue`, spread over its subtypes (at least one each).
    low, high = spec["samples_per_tissue"]
    rows = []
    for t, tissue in enumerate(TISSUES):
        members = [k for k, (name, _) in enumerate(subtypes) if name == tissue]
        count = max(int(rng.integers(low, high + 1)), len(members))
        rows += [members[j % len(members)] for j in range(count)]
    rows = [rows[i] for i in rng.permutation(len(rows))]
    num_sources = len(rows)
    contamination = rng.beta(1.5, 9.0, num_sources)
    donor_shift = rng.normal(0.0, 0.03, num_sources)
    betas = (1 - contamination[:, None]) * profiles[rows] + contamination[:, None] * blood
    betas += donor_shift[:, None] + rng.normal(0.0, 0.06, (num_sources, num_regions))
    variable = kinds == 2
    betas[:, variable] += rng.normal(0.0, 0.2, (num_sources, int(variable.sum())))
    call_rate = rng.uniform(0.45, 0.95, num_sources)
    region_dropout = rng.uniform(0.0, 0.08, num_sources)

    names = [f"file_{i:03d}_{subtypes[k][0]}" for i, k in enumerate(rows)]
    meta = {"tissue": [subtypes[k][0] for k in rows], "subtype": [subtypes[k][1] for k in rows], "group": list(names),
            "augmented": [False] * num_sources}
    # Augmented copies: same profile (same betas), fresh reads at lower coverage; they share the source's group.
    sources = rng.choice(num_sources, size=max(1, int(round(spec["augmented_fraction"] * num_sources))), replace=False)
    extra_rows, extra_call, extra_drop = [], [], []
    for source in sorted(sources):
        for _ in range(int(rng.integers(1, 4))):
            extra_rows.append(source)
            extra_call.append(call_rate[source] * rng.uniform(0.5, 0.9))
            extra_drop.append(region_dropout[source])
    for j, source in enumerate(extra_rows):
        index = num_sources + j
        names.append(f"file_{index:03d}_{meta['tissue'][source]}")
        for key in ("tissue", "subtype", "group"):
            meta[key].append(meta[key][source])
        meta["augmented"].append(True)
    betas = np.clip(np.concatenate([betas, betas[extra_rows]]), 0.01, 0.99).astype(np.float32)

    starts = np.cumsum(rng.integers(2_000, 60_000, num_regions)) + 10_000
    cpg_counts = cpg_mask.sum(axis=1)
    gaps = rng.integers(5, 200, num_regions)  # CpGs of the genome between regions
    first = np.cumsum(gaps + np.concatenate([[0], cpg_counts[:-1]]))
    tokenizer = TissueBERTTokenizer(region_length=REGION_LENGTH, num_regions=num_regions)
    return MethylationAtlas(
        tissues=TISSUES,
        filenames=[n + ".npz" for n in names],
        tissue=meta["tissue"],
        tissue_index=np.array([TISSUES.index(t) for t in meta["tissue"]], dtype=np.int64),
        subtype=meta["subtype"],
        group=meta["group"],
        augmented=np.array(meta["augmented"]),
        region_names=[f"chr1:{s}-{s + REGION_LENGTH}" for s in starts],
        region_cpg_ranges=np.stack([first, first + cpg_counts], axis=1).astype(np.int64),
        num_genome_cpgs=int(first[-1] + cpg_counts[-1] + rng.integers(5, 200)),
        dna=dna,
        dna_tokens=np.stack([tokenizer.kmer_ids(seq) for seq in dna]).astype(np.uint8),
        cpg_mask=cpg_mask,
        region_kind=kinds,
        betas=betas,
        call_rate=np.concatenate([call_rate, extra_call]).astype(np.float32),
        region_dropout=np.concatenate([region_dropout, extra_drop]).astype(np.float32),
        seed=seed,
        _cpg_offset=rng.normal(0.0, 0.05, (num_regions, REGION_LENGTH)).astype(np.float32),
    )
