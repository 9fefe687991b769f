"""
`molecule-optical-properties`: SMILES -> per-task probabilities, auxiliary predictions and conformer attention.

    predict = pipeline(model="org/milmol-demo", trust_remote_code=True)
    predict(["CCO", "c1ccccc1"])            # one dict per molecule
    predict("CCO")                          # one dict

Output per molecule:
    smiles, canonical_smiles
    error                 None, or why the molecule could not be featurised (then the predictions are None)
    probabilities         {task: P(positive)} for config.task_names
    predicted             {task: probability >= threshold} (default: the config's per-task `decision_thresholds`,
                          chosen on validation at training; `threshold=` sets one for every task)
    note                  None, or why the molecule has fewer conformers than asked or none (predicted from 2D)
    auxiliary             {name: value} absorbance and fluorescence regressions in their original units
    conformer_attention   np.ndarray (tasks, conformers): each task's attention over this molecule's conformers
    top_conformer         {task: index of the most-attended conformer}
Featurising SMILES needs RDKit (see tokenization_milmol.py); a dict {"x2d": ..., "x3d": ...} of precomputed
features is accepted as an input too.
"""

import numpy as np
import torch
from transformers import Pipeline


class MILMolPipeline(Pipeline):
    """Predict the optical-property tasks of molecules given as SMILES (or precomputed feature dicts)."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __call__(self, inputs, **kwargs):
        if (kwargs.get("batch_size") or self._batch_size or 1) > 1:
            raise ValueError("the pipeline featurises and predicts one molecule at a time; for batches use "
                             "`tokenizer.encode_molecules` + the model, or `biohf predict milmol`")
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(self, threshold=None):
        postprocess = {} if threshold is None else {"threshold": float(threshold)}
        return {}, {}, postprocess

    def preprocess(self, molecule):
        if isinstance(molecule, dict):
            record = {"smiles": molecule.get("smiles"), "canonical_smiles": molecule.get("smiles"), "error": None,
                      "x2d": np.asarray(molecule["x2d"], dtype=np.float32), "x3d": np.asarray(molecule["x3d"], dtype=np.float32)}
        elif isinstance(molecule, str):
            record = self.tokenizer.featurize(molecule)[0]
        else:
            raise ValueError(f"an input is a SMILES string or a dict with x2d / x3d, got {type(molecule).__name__}")
        if record["error"]:
            return {"record": record, "batch": None}
        return {"record": record, "batch": dict(self.tokenizer.pad([record], return_tensors="pt"))}

    def _forward(self, inputs):
        if inputs["batch"] is None:
            return {"record": inputs["record"], "output": None}
        output = self.model(**inputs["batch"])
        keep = ("logits", "aux_abs", "aux_fluo", "conformer_attention")
        return {"record": inputs["record"], "output": {k: output[k][0].detach().float() for k in keep}}

    def postprocess(self, outputs, threshold=None):
        record, output, config = outputs["record"], outputs["output"], self.model.config
        result = {"smiles": record["smiles"], "canonical_smiles": record["canonical_smiles"], "error": record["error"],
                  "note": record.get("note")}
        thresholds = getattr(config, "decision_thresholds", None) or [0.5] * config.num_tasks
        thresholds = thresholds if threshold is None else [float(threshold)] * config.num_tasks
        if output is None:
            return {**result, "probabilities": None, "predicted": None, "auxiliary": None,
                    "conformer_attention": None, "top_conformer": None}
        probabilities = torch.sigmoid(output["logits"]).tolist()
        auxiliary = {}
        for names, key, mean, std in ((config.aux_abs_names, "aux_abs", config.aux_abs_mean, config.aux_abs_std),
                                      (config.aux_fluo_names, "aux_fluo", config.aux_fluo_mean, config.aux_fluo_std)):
            values = output[key].tolist()
            auxiliary.update({name: values[i] * std[i] + mean[i] for i, name in enumerate(names)})
        attention = output["conformer_attention"].numpy()
        return {
            **result,
            "probabilities": dict(zip(config.task_names, probabilities)),
            "predicted": {task: p >= cut for task, p, cut in zip(config.task_names, probabilities, thresholds)},
            "auxiliary": auxiliary,
            "conformer_attention": attention,
            "top_conformer": {task: int(attention[t].argmax()) if attention.shape[-1] and attention[t].any() else None
                              for t, task in enumerate(config.task_names)},
        }
