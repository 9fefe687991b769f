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
from pathlib import Path

import numpy as np
import torch
from transformers import Pipeline

from .formats_tissuebert import aggregate_beta, align_probes, load_npz_sample, read_beta, read_region_bed


class TissueBERTPipeline(Pipeline):
    """Tissue of origin of methylation samples: probabilities, top-k names, informative regions."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def _sanitize_parameters(self, top_k=None, top_regions=None, regions_bed=None, region_batch_size=None, min_share=None):
        preprocess, forward, postprocess = {}, {}, {}
        if min_share is not None:
            postprocess["min_share"] = min_share
        if regions_bed is not None:
            preprocess["regions_bed"] = regions_bed
        if region_batch_size is not None:
            forward["region_batch_size"] = region_batch_size
        if top_k is not None:
            postprocess["top_k"] = top_k
        if top_regions is not None:
            postprocess["top_regions"] = top_regions
        return preprocess, forward, postprocess

    # -- preprocess: file or array -> model inputs -------------------------------------------------------------
    def _load(self, sample, regions_bed):
        """A path becomes an array (or a dict of region means and coverage); probe ids are aligned; the rest passes."""
        if isinstance(sample, dict) and "probes" in sample:
            config = self.model.config
            if not config.regions or "betas" not in sample:
                raise ValueError("a {'probes', 'betas'} sample needs both keys and a model whose config names its regions")
            return {"region_means": align_probes(list(sample["probes"]), sample["betas"], config.regions,
                                                 config.min_region_overlap)}, None
        if not isinstance(sample, (str, os.PathLike)):
            return sample, None
        path = Path(sample)
        if not path.is_file():
            raise FileNotFoundError(f"no such sample file: {path}")
        suffix = path.suffix.lower()
        if suffix == ".npz":
            data = load_npz_sample(path)
            return data["methylation"], data["dna_tokens"]
        if suffix == ".npy":
            return np.load(path, allow_pickle=False), None
        if suffix == ".beta":
            if regions_bed is not None:
                _, ranges = read_region_bed(regions_bed)
            elif self.model.config.region_cpg_ranges is not None:
                ranges = np.asarray(self.model.config.region_cpg_ranges, dtype=np.int64)
            else:
                raise ValueError(f"{path}: a .beta file needs regions_bed= (chr start end startCpG endCpG) to aggregate "
                                 "its CpGs into the model's regions; this repository stores no region_cpg_ranges")
            means, coverage = aggregate_beta(*read_beta(path), ranges)
            return {"region_means": means, "region_coverage": coverage}, None
        raise ValueError(f"{path}: unsupported sample file {suffix!r}; use .npz, .beta or .npy")

    def preprocess(self, sample, regions_bed=None):
        sample, dna_tokens = self._load(sample, regions_bed)
        config = self.model.config
        if config.model_kind != "region":
            return dict(self.tokenizer.encode_samples([sample], return_tensors="pt"))
        states = np.asarray(sample)
        if dna_tokens is None or states.shape != (config.num_regions, config.region_length):
            raise ValueError("the region-level model classifies regions from their DNA and methylation states: give an .npz "
                             f"sample with 'dna_tokens' and 'methylation' of shape ({config.num_regions}, {config.region_length})")
        return {"input_ids": torch.as_tensor(np.asarray(dna_tokens), dtype=torch.long),
                "methylation": torch.as_tensor(self.tokenizer.check_states(states, "methylation"))}

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
            keep = order[shares[order] >= min_share] if min_share is not None else order[: max(int(top_k), 1)]
            return {"label": config.id2label[int(order[0])], "score": float(shares[order[0]]),
                    "proportions": [{"label": config.id2label[int(i)], "share": float(shares[i])} for i in keep],
                    "shares": shares, "missing_regions": int(np.isnan(out["region_means"].cpu().numpy()).sum())}
        probabilities = torch.softmax(out["logits"], dim=-1).cpu().numpy()
        order = np.argsort(-probabilities, kind="stable")[: max(int(top_k), 1)]
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
