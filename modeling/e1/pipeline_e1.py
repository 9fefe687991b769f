"""
`metal-binding-residues`: per-residue metal-ion binding probabilities of a protein, with optional homolog context.

    find = pipeline(model="org/e1-binding-demo", trust_remote_code=True)
    find("MKTAYIAKQR...")                                        # one protein -> dict
    find("MKTAYIAKQR...", context=["MKSAYIAKQ...", ...])         # homologs: list, "A,B,C" string or an .a3m path
    find([{"sequence": ..., "context": ...}, "MSEQ..."])        # several -> list of dicts

Output per protein:
    sequence           the query as read (case folded; characters outside A-Z read as X)
    ions               the ions, in the column order of `probabilities`
    probabilities      np.ndarray (len(sequence), len(ions)) binding probability per residue and ion
    thresholds         {ion: threshold} (default: the model's out-of-fold thresholds, `config.decision_thresholds`)
    binding_residues   {ion: [{"position": 1-based, "residue": "C", "probability": p}, ...]} at or above threshold
    num_context        number of homologs used
"""

import numpy as np
import torch
from transformers import Pipeline

from .tokenization_e1 import parse_context


class E1BindingPipeline(Pipeline):
    """Per-residue, per-ion metal-binding probabilities and the residues called binding."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __call__(self, inputs=None, *, context=None, **kwargs):
        if inputs is None:
            raise ValueError("give a protein sequence, a {'sequence', 'context'} dict, or a list of them")
        if context is not None:
            if not isinstance(inputs, str):
                raise ValueError("context= goes with a single sequence; for several, pass {'sequence', 'context'} dicts")
            inputs = {"sequence": inputs, "context": context}
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(self, threshold=None, max_context=None):
        preprocess, postprocess = {}, {}
        if max_context is not None:
            preprocess["max_context"] = int(max_context)
        if threshold is not None:
            postprocess["threshold"] = threshold
        return preprocess, {}, postprocess

    def preprocess(self, item, max_context=None):
        if isinstance(item, str):
            sequence, context = item, None
        elif isinstance(item, dict):
            if "sequence" not in item:
                raise ValueError(f"input dict lacks 'sequence' (keys: {sorted(item)})")
            sequence, context = item["sequence"], item.get("context")
        else:
            raise ValueError(f"an input is a sequence string or a {{'sequence', 'context'}} dict, got {type(item).__name__}")
        homologs = parse_context(context, sequence)
        if max_context is not None:
            homologs = homologs[:max_context]
        encoding = self.tokenizer.encode_proteins(sequence, context=homologs, return_tensors="pt")
        residues = self.tokenizer.convert_ids_to_tokens(self.tokenizer.residue_ids(sequence).tolist())
        return {"encoding": dict(encoding), "sequence": "".join(residues), "num_context": len(homologs)}

    def _forward(self, inputs):
        encoding = inputs["encoding"]
        out = self.model(**encoding)
        if getattr(out, "binding_logits", None) is None:
            raise ValueError(f"{type(self.model).__name__} has no binding head: load with AutoModelForTokenClassification")
        length = len(inputs["sequence"])
        is_query = self.tokenizer.query_residue_mask(encoding["sequence_ids"], encoding["within_seq_position_ids"],
                                                     encoding["attention_mask"])[0]
        probabilities = torch.sigmoid(out.binding_logits[0][is_query].float())
        if probabilities.shape[0] != length:
            raise RuntimeError(f"expected {length} query residues, found {probabilities.shape[0]}")
        return {"probabilities": probabilities, "sequence": inputs["sequence"], "num_context": inputs["num_context"]}

    def postprocess(self, out, threshold=None):
        ions = list(self.model.config.ions)
        thresholds = dict(self.model.config.decision_thresholds)
        if isinstance(threshold, (int, float)):
            thresholds = {ion: float(threshold) for ion in ions}
        elif isinstance(threshold, dict):
            thresholds.update({str(k).upper(): float(v) for k, v in threshold.items()})
        probabilities = out["probabilities"].cpu().numpy()
        sequence = out["sequence"]
        binding = {
            ion: [{"position": int(i) + 1, "residue": sequence[i], "probability": float(probabilities[i, j])}
                  for i in np.flatnonzero(probabilities[:, j] >= thresholds[ion])]
            for j, ion in enumerate(ions)
        }
        return {"sequence": sequence, "ions": ions, "probabilities": probabilities,
                "thresholds": {ion: thresholds[ion] for ion in ions}, "binding_residues": binding,
                "num_context": out["num_context"]}
