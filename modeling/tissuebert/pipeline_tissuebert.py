"""
`tissue-of-origin`: the tissue a DNA-methylation sample comes from.

    classify = pipeline(model="org/tissuebert-demo", trust_remote_code=True)
    classify("file_042_Liver.npz")                  # one sample: a path (.npz, .beta, .npy) or an array
    classify(["a.npz", "b.beta"], regions_bed="regions.bed", top_k=3)   # a list: one result each

A sample is a per-sample `.npz` (`methylation` (regions, 150) states 0/1/2, and `dna_tokens` for the region-level
model), a wgbstools `.beta` file (aggregated over `regions_bed`, or over `config.region_cpg_ranges` when the
repository stores them), a `.npy` array, an array of `num_regions` mean methylation values (NaN = missing), an
array (num_regions, region_length) of states, or a dict `{"region_means", "region_coverage"}`.
A single sample must not be a plain Python list (a list means several samples). A sample measured on an array
can also be a dict `{"probes": [...ids], "betas": [...values]}`: it is aligned to the model's regions by probe id
(absent probes are missing; too few shared probes is an error saying how many there are).

Output (one dict per sample):
    label, score            the most probable tissue and its probability
    top_k                   [{label, score}], the `top_k` (default 5) most probable tissues
    probabilities           np.ndarray (num_labels,) in label-id order
    missing_regions         how many regions had no methylation call
region-attention model only:
    region_attention        np.ndarray (num_regions,): pooling attention, 0 on missing regions
    informative_regions     the `top_regions` (default 10) regions with the most attention:
                            [{region (index), name, attention, mean_methylation}]
mixture model (`model_kind="mixture"`):
    proportions             [{label, share}], the tissues' shares in the sample, largest first (the top_k, or
                            all with a share >= min_share); label / score are the largest share
    shares                  np.ndarray (num_labels,): every tissue's share (sums to 1)
region-level model: every region is classified on its own and the sample's probabilities are the softmax of
the mean per-region log-probability (the original design's only way to call a sample).
"""

import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from transformers import Pipeline

from .formats_tissuebert import aggregate_beta, align_probes, load_npy_sample, load_npz_sample, read_beta, read_region_bed


def _count(name, value, smallest: int) -> int:
    """An integer parameter >= `smallest` (a bool, a float, a string or NaN is an error saying what is allowed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {smallest}, got {type(value).__name__} {value!r}")
    if value < smallest:
        raise ValueError(f"{name} must be an integer >= {smallest}, got {value}")
    return int(value)


def _number(name, value, allowed: str, low: float, high: float) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
    if not low <= float(value) <= high:  # NaN fails too
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def _betas(values, count: int) -> np.ndarray:
    """A probe sample's 'betas': `count` numbers in [0, 1] (None / NaN = missing)."""
    if values is None or isinstance(values, (str, bytes, dict, set)):
        raise TypeError(f"probe sample: 'betas' must be a list of {count} numbers, got {type(values).__name__}")
    if isinstance(values, (list, tuple)):
        if any(isinstance(v, (bool, np.bool_)) for v in values):
            raise TypeError("probe sample: 'betas' must be numbers, got a bool")
        values = [np.nan if v is None else v for v in values]
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"probe sample: 'betas' must be a flat list of {count} numbers ({error})") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"probe sample: 'betas' must be numbers, got an array of {array.dtype}")
    if array.shape != (count,):
        raise ValueError(f"probe sample: {array.shape} betas for {count} probes (one beta value per probe)")
    outside = ~np.isnan(array) & ~((array >= 0) & (array <= 1))  # every probe, also those the model does not use
    if outside.any():
        position = int(np.argmax(outside))
        raise ValueError(f"probe sample: beta value {array[position]} of probe #{position} is outside [0, 1] (NaN / None = missing)")
    return array.astype(np.float64)


class TissueBERTPipeline(Pipeline):
    """Tissue of origin of methylation samples: probabilities, top-k names, informative regions."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple)) and not len(inputs):
            raise ValueError("TissueBERT pipeline: got an empty list of samples; give one sample (a path, an array, a dict) "
                             "or a non-empty list of them")
        return super().__call__(inputs, *args, **kwargs)

    def _sanitize_parameters(self, top_k=None, top_regions=None, regions_bed=None, region_batch_size=None, min_share=None):
        preprocess, forward, postprocess = {}, {}, {}
        if min_share is not None:
            if self.model.config.model_kind != "mixture":
                raise ValueError(f"min_share is a mixture model's parameter; this is a {self.model.config.model_kind!r} model (use top_k)")
            postprocess["min_share"] = _number("min_share", min_share, "a number in [0, 1]", 0.0, 1.0)
        if regions_bed is not None:
            if not isinstance(regions_bed, (str, os.PathLike)):
                raise TypeError(f"regions_bed must be the path of a region BED file, got {type(regions_bed).__name__}")
            preprocess["regions_bed"] = regions_bed
        if region_batch_size is not None:
            forward["region_batch_size"] = _count("region_batch_size", region_batch_size, 1)
        if top_k is not None:
            postprocess["top_k"] = _count("top_k", top_k, 1)
        if top_regions is not None:
            postprocess["top_regions"] = _count("top_regions", top_regions, 0)
        return preprocess, forward, postprocess

    # -- preprocess: file or array -> model inputs -------------------------------------------------------------
    def _load(self, sample, regions_bed):
        """(sample, dna_tokens, name): a path becomes an array (or a dict of region means and coverage) named by its file;
        a {"probes", "betas"} dict is aligned to the model's regions; the rest passes to the tokenizer."""
        if isinstance(sample, dict) and "probes" in sample:
            return {"region_means": self._aligned(sample)}, None, "probe sample"
        if not isinstance(sample, (str, os.PathLike)):
            return sample, None, "sample"
        path = Path(sample)
        if not path.is_file():
            raise FileNotFoundError(f"no such sample file: {path}")
        suffix = path.suffix.lower()
        if suffix == ".npz":
            data = load_npz_sample(path)
            return data["methylation"], data["dna_tokens"], str(path)
        if suffix == ".npy":
            return load_npy_sample(path), None, str(path)
        if suffix == ".beta":
            if regions_bed is not None:
                _, ranges = read_region_bed(regions_bed)
            elif self.model.config.region_cpg_ranges is not None:
                ranges = np.asarray(self.model.config.region_cpg_ranges, dtype=np.int64)
            else:
                raise ValueError(f"{path}: a .beta file needs regions_bed= (chr start end startCpG endCpG) to aggregate "
                                 "its CpGs into the model's regions; this repository stores no region_cpg_ranges")
            means, coverage = aggregate_beta(*read_beta(path), ranges, what=str(path))
            return {"region_means": means, "region_coverage": coverage}, None, str(path)
        raise ValueError(f"{path}: unsupported sample file {suffix!r}; use .npz, .beta or .npy")

    def _aligned(self, sample: dict) -> np.ndarray:
        """A {"probes": [...ids], "betas": [...values]} sample in the order of the model's regions."""
        config = self.model.config
        if set(sample) != {"probes", "betas"} or not config.regions:
            raise ValueError(f"a probe sample is a dict with exactly the keys 'probes' and 'betas' (got {sorted(map(str, sample))}), "
                             "for a model whose config names its regions" + ("" if config.regions else " (this one names none)"))
        probes = sample["probes"]
        if isinstance(probes, (str, bytes)) or not isinstance(probes, (list, tuple, np.ndarray)) \
                or not all(isinstance(p, str) and p for p in probes):
            raise TypeError(f"probe sample: 'probes' must be a list of probe ids (non-empty strings), got {type(probes).__name__}")
        repeated = sorted(p for p, n in Counter(probes).items() if n > 1)  # linear: an EPIC sample has 850k probes
        if repeated:
            raise ValueError(f"probe sample: probe id(s) {repeated[:5]} listed more than once")
        betas = _betas(sample["betas"], len(probes))
        return align_probes(list(probes), betas, config.regions, config.min_region_overlap, what="probe sample")

    def preprocess(self, sample, regions_bed=None):
        sample, dna_tokens, name = self._load(sample, regions_bed)
        config = self.model.config
        if config.model_kind != "region":
            inputs = dict(self.tokenizer.encode_samples([sample], return_tensors="pt", names=[name]))
            if not inputs["region_mask"].any():
                raise ValueError(f"{name}: no region has a methylation call (all {config.num_regions} are missing); "
                                 "nothing to classify")
            return inputs
        states = np.asarray(sample) if isinstance(sample, np.ndarray) else None
        if dna_tokens is None or states is None or states.shape != (config.num_regions, config.region_length):
            raise ValueError(f"{name}: the region-level model classifies regions from their DNA and methylation states: give "
                             f"an .npz sample with 'dna_tokens' and 'methylation' of shape ({config.num_regions}, {config.region_length})")
        tokens = np.asarray(dna_tokens)
        if tokens.dtype.kind not in "iu" or tokens.min() < 0 or tokens.max() >= len(self.tokenizer):
            raise ValueError(f"{name}: 'dna_tokens' must be token ids in 0..{len(self.tokenizer) - 1}")
        return {"input_ids": torch.as_tensor(tokens, dtype=torch.long),
                "methylation": torch.as_tensor(self.tokenizer.check_states(states, name))}

    # -- forward ---------------------------------------------------------------------------------------------
    def _forward(self, inputs, region_batch_size=512):
        if self.model.config.model_kind != "region":
            out = self.model(**inputs)
            means = inputs["region_means"][0].float().masked_fill(inputs["region_mask"][0] == 0, float("nan"))
            result = {"logits": out.logits[0].float(), "region_means": means}
            if out.proportions is not None:
                result["proportions"] = out.proportions[0].float()
            if out.region_attention is not None:
                result["region_attention"] = out.region_attention[0].float()
            return result
        log_probs = []
        for begin in range(0, inputs["input_ids"].shape[0], region_batch_size):
            chunk = {k: v[begin : begin + region_batch_size] for k, v in inputs.items()}
            log_probs.append(torch.log_softmax(self.model(**chunk).logits.float(), dim=-1))
        return {"logits": torch.cat(log_probs).mean(dim=0)}

    # -- postprocess -----------------------------------------------------------------------------------------
    def postprocess(self, out, top_k=5, top_regions=10, min_share=None):
        config = self.model.config
        if "proportions" in out:
            shares = out["proportions"].cpu().numpy()
            order = np.argsort(-shares, kind="stable")
            keep = order[shares[order] >= min_share] if min_share is not None else order[:top_k]
            return {"label": config.id2label[int(order[0])], "score": float(shares[order[0]]),
                    "proportions": [{"label": config.id2label[int(i)], "share": float(shares[i])} for i in keep],
                    "shares": shares, "missing_regions": int(np.isnan(out["region_means"].cpu().numpy()).sum())}
        probabilities = torch.softmax(out["logits"], dim=-1).cpu().numpy()
        order = np.argsort(-probabilities, kind="stable")[:top_k]
        result = {
            "label": config.id2label[int(order[0])],
            "score": float(probabilities[order[0]]),
            "top_k": [{"label": config.id2label[int(i)], "score": float(probabilities[i])} for i in order],
            "probabilities": probabilities,
        }
        if "region_means" in out:
            means = out["region_means"].cpu().numpy()
            result["missing_regions"] = int(np.isnan(means).sum())
        if "region_attention" in out:
            attention = out["region_attention"].cpu().numpy()
            result["region_attention"] = attention
            names = config.regions
            result["informative_regions"] = [
                {"region": int(i), "name": names[i] if names else f"region_{i}", "attention": float(attention[i]),
                 "mean_methylation": None if np.isnan(means[i]) else float(means[i])}
                for i in np.argsort(-attention, kind="stable")[: int(top_regions)] if attention[i] > 0
            ]
        return result
