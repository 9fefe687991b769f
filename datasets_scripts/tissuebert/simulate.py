"""
Labelled samples simulated from a reference atlas' real profiles (`biohf train tissuebert --train_file ATLAS
--simulate N`). The atlas gives one beta value per CpG and cell type; a simulated sample is:

1. a *draw*: every cell type in it gets its own noisy copy of its atlas profile, the per-CpG logit shifted by
   Normal(0, `profile_noise`) (biological variation between people); a single-tissue draw has one cell type, a
   mixture several with proportions (cfDNA-like: blood cell types >= `blood_min`, the rest 1..`max_minor_tissues`
   other tissues; or 2..`max_components` of any, Dirichlet(1) shares); the draw's beta = the mixed profile;
2. `samples_per_draw` samples read from that draw: a per-sample mean depth, log-uniform in
   [`depth_min`, `depth_max`] reads per CpG; per-CpG depth Poisson(depth x Gamma(1/`depth_dispersion`)) (negative
   binomial); methylated calls Binomial(depth, beta); a CpG with no read is missing, and a per-sample fraction
   (uniform in [0, `missing_rate_max`]) more is dropped at random. A fraction `array_fraction` of the samples are
   array-like instead: the beta values themselves plus Normal(0, s) measurement noise, s uniform in
   [0, `array_noise`], clipped to [0, 1].

Every sample of a draw shares its group, so the group-aware split keeps them together: no test sample shares a
noise draw with a training sample. They all come from the same atlas profiles, though: the test measures
generalisation to new noise and depth, not to new people or new labs.
"""

from dataclasses import asdict, dataclass, fields, replace
from typing import Optional

import numpy as np

from .readers import SampleTable

# The blood cell types of the Moss et al. 2018 atlas (`reference_atlas.csv`), the default cfDNA background.
MOSS_BLOOD = ("Monocytes_EPIC", "B-cells_EPIC", "CD4T-cells_EPIC", "NK-cells_EPIC", "CD8T-cells_EPIC",
              "Neutrophils_EPIC", "Erythrocyte_progenitors")


@dataclass(frozen=True)
class SimulationConfig:
    """Every parameter of the simulation (see the module docstring); stored in the model config and card."""

    depth_min: float = 1.0
    depth_max: float = 20.0
    depth_dispersion: float = 0.5
    missing_rate_max: float = 0.2
    profile_noise: float = 0.5
    array_fraction: float = 0.1
    array_noise: float = 0.02
    samples_per_draw: int = 2
    mixture_fraction: float = 0.0
    cfdna_fraction: float = 0.5
    blood_min: float = 0.8
    max_minor_tissues: int = 3
    max_components: int = 4
    blood_columns: tuple = MOSS_BLOOD

    def __post_init__(self):
        if not 0 < self.depth_min <= self.depth_max:
            raise ValueError(f"simulation: need 0 < depth_min <= depth_max, got {self.depth_min}, {self.depth_max}")
        for name in ("missing_rate_max", "array_fraction", "mixture_fraction", "cfdna_fraction", "blood_min"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"simulation: {name} must be in [0, 1], got {getattr(self, name)}")
        if self.samples_per_draw < 1 or self.max_minor_tissues < 1 or self.max_components < 2:
            raise ValueError("simulation: samples_per_draw and max_minor_tissues must be >= 1, max_components >= 2")
        if min(self.depth_dispersion, self.profile_noise, self.array_noise) < 0:
            raise ValueError("simulation: depth_dispersion, profile_noise and array_noise must be >= 0")

    @classmethod
    def parse(cls, text: Optional[str], **defaults) -> "SimulationConfig":
        """`'depth_max=10,mixture_fraction=1,blood_columns=A;B'` -> config (`defaults` first); unknown keys are errors."""
        known = {f.name: f.type for f in fields(cls)}
        values = dict(defaults)
        for item in filter(None, (text or "").split(",")):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in known:
                raise ValueError(f"simulation: {item!r} is not key=value with a key among {', '.join(known)}")
            values[key] = tuple(v for v in value.split(";") if v) if key == "blood_columns" else \
                (int(value) if known[key] in (int, "int") else float(value))
        return cls(**values)

    def to_dict(self) -> dict:
        return {**asdict(self), "blood_columns": list(self.blood_columns)}


def _logit(p):
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p))


def draw_compositions(num_draws: int, tissues, config: SimulationConfig, rng) -> np.ndarray:
    """(num_draws, tissues) proportions: single tissues (evenly, in turn) or mixtures, per `config`."""
    tissues = list(tissues)
    blood = [tissues.index(b) for b in config.blood_columns if b in tissues]
    others = [t for t in range(len(tissues)) if t not in blood]
    mixtures = rng.random(num_draws) < config.mixture_fraction
    cfdna = mixtures & (rng.random(num_draws) < config.cfdna_fraction)
    if cfdna.any() and (not blood or not others):
        raise ValueError(f"simulation: cfDNA-like mixtures need blood columns ({list(config.blood_columns)}) and other "
                         f"tissues among the atlas columns {tissues}; set blood_columns=...")
    compositions = np.zeros((num_draws, len(tissues)))
    singles = 0
    for k in range(num_draws):
        if cfdna[k]:
            share = rng.uniform(config.blood_min, 0.99)
            compositions[k, blood] = share * rng.dirichlet(np.ones(len(blood)))
            minors = rng.choice(others, size=rng.integers(1, min(config.max_minor_tissues, len(others)) + 1), replace=False)
            compositions[k, minors] = (1 - share) * rng.dirichlet(np.ones(len(minors)))
        elif mixtures[k]:
            chosen = rng.choice(len(tissues), size=rng.integers(2, min(config.max_components, len(tissues)) + 1), replace=False)
            compositions[k, chosen] = rng.dirichlet(np.ones(len(chosen)))
        else:
            compositions[k, singles % len(tissues)] = 1.0
            singles += 1
    return compositions


def measure_sample(beta: np.ndarray, config: SimulationConfig, rng) -> tuple:
    """(means, coverage, depth) of one sample of a draw's beta values: read calls or an array (NaN = missing)."""
    n = beta.shape[0]
    if rng.random() < config.array_fraction:
        noisy = np.clip(beta + rng.normal(0, rng.uniform(0, config.array_noise), n), 0, 1)
        coverage = np.ones(n)
        depth = np.inf
    else:
        depth = float(np.exp(rng.uniform(np.log(config.depth_min), np.log(config.depth_max))))
        rate = depth * (rng.gamma(1 / config.depth_dispersion, config.depth_dispersion, n) if config.depth_dispersion else np.ones(n))
        coverage = rng.poisson(rate).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            noisy = rng.binomial(coverage.astype(np.int64), beta) / coverage
    dropped = rng.random(n) < rng.uniform(0, config.missing_rate_max)
    coverage = np.where(dropped, 0, coverage)
    return np.where(coverage > 0, noisy, np.nan), coverage, depth


def simulate_samples(profiles: np.ndarray, tissues, num_samples: int, config: SimulationConfig, seed: int = 0,
                     region_names=None, source: str = "reference atlas", prefix: str = "sim") -> SampleTable:
    """
    `num_samples` samples simulated from `profiles` (regions, tissues) beta values (module docstring), as a
    `SampleTable` with `proportions` (samples, tissues), `depth` (inf = array-like) and the draw as `groups`;
    the label (`tissue_index`) is the largest component.
    """
    profiles = np.asarray(profiles, dtype=np.float64)
    if profiles.ndim != 2 or profiles.shape[1] != len(tissues):
        raise ValueError(f"profiles must be (regions, {len(tissues)} tissues), got {profiles.shape}")
    if np.isnan(profiles).any():
        raise ValueError(f"{source}: {int(np.isnan(profiles).any(axis=1).sum())} region(s) with a missing reference value; "
                         "simulation needs a complete atlas (drop those probes)")
    if num_samples < 1:
        raise ValueError(f"simulate: need at least one sample, got {num_samples}")
    rng = np.random.default_rng(seed)
    num_draws = -(-num_samples // config.samples_per_draw)
    compositions = draw_compositions(num_draws, tissues, config, rng)
    logits = _logit(profiles)
    means, coverage, depth, groups, names, proportions = [], [], [], [], [], []
    for k, composition in enumerate(compositions):
        used = np.flatnonzero(composition)
        noisy = 1 / (1 + np.exp(-(logits[:, used] + rng.normal(0, config.profile_noise, (profiles.shape[0], len(used))))))
        beta = noisy @ composition[used]
        for r in range(min(config.samples_per_draw, num_samples - len(means))):
            m, c, d = measure_sample(beta, config, rng)
            means.append(m)
            coverage.append(c)
            depth.append(d)
            groups.append(f"{prefix}-draw{k:05d}")
            names.append(f"{prefix}-draw{k:05d}-{r}")
            proportions.append(composition)
    proportions = np.asarray(proportions, dtype=np.float32)
    labels = proportions.argmax(axis=1)
    return SampleTable(
        filenames=names, tissues=tuple(tissues), tissue_index=labels.astype(np.int64), groups=groups,
        means=np.asarray(means, dtype=np.float32), coverage=np.asarray(coverage, dtype=np.float32),
        region_names=list(region_names) if region_names is not None else [f"region_{i}" for i in range(profiles.shape[0])],
        source=f"{num_samples} samples simulated from {source}", subtypes=[tissues[i] for i in labels],
        proportions=proportions, depth=np.asarray(depth, dtype=np.float32))


def at_depth(config: SimulationConfig, depth: Optional[float], **changes) -> SimulationConfig:
    """`config` with every sample read at mean `depth` (None: array-like beta values), for a depth curve."""
    if depth is None:
        return replace(config, array_fraction=1.0, **changes)
    return replace(config, depth_min=depth, depth_max=depth, array_fraction=0.0, **changes)
