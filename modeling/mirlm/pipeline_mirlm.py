"""
`mirna-target-scan`: score a miRNA against an mRNA (of any length), locate and name its binding site.

    scan = pipeline(model="org/mirlm-demo", trust_remote_code=True)
    scan(mirna="UAGCUUAUCAGACUGAUGUUGA", mrna="...")            # one pair -> dict
    scan(mirna=[...], mrna=[...])  or  scan([{"mirna": .., "mrna": ..}, ...])  or  scan([(mirna, mrna), ...])
    scan(mirna=..., mrna=..., ism=True)                        # + in-silico mutagenesis

Long transcripts. The model takes `mrna_max_len - 1` nt (519); a longer mRNA is scanned in windows of that
length with `stride` nt between window starts (default: half a window, so every nucleotide sits at least a
quarter window away from both edges of some window), the last window ending at the transcript's end. The
transcript-level binding probability is the maximum over windows: the windows are instances of one bag, and a
transcript is targeted when any part of it is (the same multiple-instance view the model takes of positions).

Output (one dict per pair; coordinates are 0-based, inclusive, on the nucleotide string, in transcript space):
    binding_probability   float, max over windows
    binds                 binding_probability >= threshold (default `config.decision_threshold`)
    site_start, site_end  the predicted site of the best window: best (start, end) of the span head with
                          start <= end and at most len(miRNA) nt (argmax of pos_weights without a span head)
    site_sequence         mRNA[site_start : site_end + 1] (DNA alphabet, after U->T normalisation)
    site_type             `classify_span`: the canonical site type it overlaps most, else "non-canonical"
    pos_weights           np.ndarray (len(mRNA),): the model's per-nucleotide MIL weights; where windows
                          overlap, the maximum over the windows covering the nucleotide
    sites                 windows scoring >= threshold, their site each, deduplicated (overlapping sites keep
                          the best-scoring one), sorted by start: [{start, end, sequence, site_type,
                          binding_probability, window_start}]
    window_starts         start of every scanned window
    ism, ism_window_start with ism=True: np.ndarray (window length, 4) over A, C, G, T: binding probability of
                          the window with that single substitution minus the window's own (0 at the
                          reference base), for the best window, which starts at ism_window_start.
"""

import numpy as np
import torch
from transformers import Pipeline

from .modeling_mirlm import best_spans
from .sites_mirlm import classify_span, seed

ISM_BASES = "ACGT"


def window_starts(length: int, window: int, stride: int) -> list:
    """Starts of windows of `window` nt every `stride` nt covering [0, length), the last ending at `length`."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


class MirLMPipeline(Pipeline):
    """Scan an mRNA for a miRNA's binding: probability, site, site type, per-nucleotide weights, optional ISM."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __call__(self, inputs=None, *, mirna=None, mrna=None, **kwargs):
        if inputs is None:
            if mirna is None or mrna is None:
                raise ValueError("give mirna= and mrna=, or a {'mirna', 'mrna'} dict, or a list of them")
            if isinstance(mrna, str) and isinstance(mirna, str):
                inputs = {"mirna": mirna, "mrna": mrna}
            else:
                mrnas = [mrna] if isinstance(mrna, str) else list(mrna)
                mirnas = [mirna] * len(mrnas) if isinstance(mirna, str) else list(mirna)
                if len(mirnas) != len(mrnas):
                    raise ValueError(f"got {len(mirnas)} miRNAs but {len(mrnas)} mRNAs")
                inputs = [{"mirna": a, "mrna": b} for a, b in zip(mirnas, mrnas)]
        elif mirna is not None or mrna is not None:
            raise ValueError("give either inputs or mirna=/mrna=, not both")
        batch_size = kwargs.get("batch_size") or self._batch_size or 1
        if batch_size > 1:
            raise ValueError("the windows of each transcript are already batched: use window_batch_size, not batch_size")
        return super().__call__(inputs, **kwargs)

    # Routing call arguments to the three stages, as every family's pipeline does: repeated per family because each modeling folder ships alone as remote code.
    def _sanitize_parameters(self, stride=None, window_batch_size=None, ism=None, ism_batch_size=None, threshold=None):
        preprocess, forward, postprocess = {}, {}, {}
        if stride is not None:
            preprocess["stride"] = stride
        if window_batch_size is not None:
            forward["window_batch_size"] = window_batch_size
        if ism is not None:
            forward["ism"] = ism
        if ism_batch_size is not None:
            forward["ism_batch_size"] = ism_batch_size
        if threshold is not None:
            postprocess["threshold"] = threshold
        return preprocess, forward, postprocess

    # -- preprocess: normalise, cut into windows, tokenise ----------------------------------------------------
    def preprocess(self, pair, stride=None):
        if isinstance(pair, dict):
            missing = {"mirna", "mrna"} - pair.keys()
            if missing:
                raise ValueError(f"input dict lacks {sorted(missing)}; expected keys 'mirna' and 'mrna'")
            mirna, mrna = pair["mirna"], pair["mrna"]
        elif isinstance(pair, (list, tuple)) and len(pair) == 2:
            mirna, mrna = pair
        else:
            raise ValueError(f"an input is a {{'mirna', 'mrna'}} dict or a (mirna, mrna) pair, got {type(pair).__name__}")
        mirna = self.tokenizer.normalize(mirna, "miRNA")
        mrna = self.tokenizer.normalize(mrna, "mRNA")
        seed(mirna)  # a miRNA needs a seed (m2-m8) to have sites
        window = self.model.config.mrna_max_len - 1
        stride = window // 2 if stride is None else int(stride)
        if not 1 <= stride <= window:
            raise ValueError(f"stride must be between 1 and the window length {window}, got {stride}")
        starts = window_starts(len(mrna), window, stride)
        windows = [mrna[s : s + window] for s in starts]
        encoding = self.tokenizer.encode_pairs(windows, mirna, padding="longest", return_tensors="pt")
        return {"encoding": dict(encoding), "mrna": mrna, "mirna": mirna, "window_starts": starts}

    # -- forward: every window (and every ISM mutant) through the model, in batches ---------------------------
    def _predict(self, encoding: dict, batch_size: int) -> dict:
        outputs = []
        total = encoding["input_ids"].shape[0]
        for begin in range(0, total, batch_size):
            chunk = {k: v[begin : begin + batch_size] for k, v in encoding.items()}
            out = self.model(**chunk)
            if getattr(out, "binding_logit", None) is None:
                raise ValueError(
                    f"{type(self.model).__name__} has no binding head: load the model with AutoModelForQuestionAnswering"
                )
            outputs.append(out)
        merged = {"probability": torch.cat([torch.sigmoid(o.binding_logit.float()) for o in outputs])}
        merged["pos_weights"] = torch.cat([o.pos_weights.float() for o in outputs])
        if outputs[0].start_logits is not None:
            merged["start_logits"] = torch.cat([o.start_logits.float() for o in outputs])
            merged["end_logits"] = torch.cat([o.end_logits.float() for o in outputs])
        return merged

    def _ism(self, encoding: dict, row: int, reference: float, batch_size: int) -> torch.Tensor:
        """(window length, 4) change of binding probability for every substitution of window `row`."""
        ids = encoding["input_ids"][row]
        length = int(encoding["attention_mask"][row].sum()) - 1  # nucleotides after [MRNA_CLS]
        base_ids = torch.tensor(self.tokenizer.convert_tokens_to_ids(list(ISM_BASES)), device=ids.device)
        position, base = torch.meshgrid(
            torch.arange(length, device=ids.device), torch.arange(4, device=ids.device), indexing="ij"
        )
        mutate = base_ids[base] != ids[position + 1]
        position, base = position[mutate], base[mutate]
        mutants = ids.repeat(position.shape[0], 1)
        mutants[torch.arange(position.shape[0]), position + 1] = base_ids[base]
        others = {k: v[row : row + 1].expand(position.shape[0], -1) for k, v in encoding.items() if k != "input_ids"}
        probability = self._predict({"input_ids": mutants, **others}, batch_size)["probability"]
        delta = torch.zeros(length, 4)
        delta[position.cpu(), base.cpu()] = probability.cpu() - reference
        return delta

    def _forward(self, inputs, window_batch_size=64, ism=False, ism_batch_size=256):
        encoding = inputs["encoding"]
        out = self._predict(encoding, window_batch_size)
        if ism:
            best = int(torch.argmax(out["probability"]))
            out["ism"] = self._ism(encoding, best, float(out["probability"][best]), ism_batch_size)
        out["lengths"] = encoding["attention_mask"].sum(dim=1) - 1
        return {**out, "mrna": inputs["mrna"], "mirna": inputs["mirna"], "window_starts": inputs["window_starts"]}

    # -- postprocess: windows -> transcript ------------------------------------------------------------------
    @staticmethod
    def _window_sites(out: dict, max_length: int) -> list:
        """(start, end) nucleotide span predicted in each window, window coordinates."""
        if "start_logits" in out:
            starts, ends = best_spans(out["start_logits"], out["end_logits"], max_length)
            return [(int(s) - 1, int(e) - 1) for s, e in zip(starts, ends)]  # token -> nucleotide
        pointers = out["pos_weights"].argmax(dim=1) - 1
        return [(int(p), int(p)) for p in pointers]

    def postprocess(self, out, threshold=None):
        threshold = self.model.config.decision_threshold if threshold is None else float(threshold)
        mrna, mirna, starts = out["mrna"], out["mirna"], out["window_starts"]
        probability = out["probability"]
        spans = self._window_sites(out, len(mirna))

        def site(row: int) -> dict:
            start, end = starts[row] + spans[row][0], starts[row] + spans[row][1]
            return {"start": start, "end": end, "sequence": mrna[start : end + 1],
                    "site_type": classify_span(mrna, mirna, start, end),
                    "binding_probability": float(probability[row]), "window_start": starts[row]}

        pos_weights = np.zeros(len(mrna), dtype=np.float32)
        for row, start in enumerate(starts):
            length = int(out["lengths"][row])
            weights = out["pos_weights"][row, 1 : length + 1].numpy()
            np.maximum(pos_weights[start : start + length], weights, out=pos_weights[start : start + length])

        sites = []
        for candidate in sorted((site(row) for row in range(len(starts)) if probability[row] >= threshold),
                                key=lambda s: -s["binding_probability"]):
            if all(candidate["end"] < kept["start"] or candidate["start"] > kept["end"] for kept in sites):
                sites.append(candidate)
        best_row = int(torch.argmax(probability))
        best = site(best_row)
        result = {
            "binding_probability": best["binding_probability"],
            "binds": best["binding_probability"] >= threshold,
            "site_start": best["start"],
            "site_end": best["end"],
            "site_sequence": best["sequence"],
            "site_type": best["site_type"],
            "pos_weights": pos_weights,
            "sites": sorted(sites, key=lambda s: s["start"]),
            "window_starts": list(starts),
        }
        if "ism" in out:
            result["ism"] = out["ism"].numpy()
            result["ism_window_start"] = starts[best_row]
        return result
