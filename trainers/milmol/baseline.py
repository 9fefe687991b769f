"""
The two baselines milmol is compared with on the same split:
- 2D logistic regression: one class-balanced logistic regression per task on the standardised 2D vector
  (no conformers at all);
- single-instance model: the same network trained on a bag of one, the mean of the conformers' 3D vectors
  (`mean_over_conformers`), so it sees the same features without multiple-instance pooling.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


class Logistic2DBaseline:
    """Per-task logistic regression on x2d; tasks without both classes in training predict their prevalence."""

    def __init__(self, C: float = 0.1, seed: int = 0):
        self.C, self.seed = C, seed

    def fit(self, x2d: np.ndarray, labels: np.ndarray) -> "Logistic2DBaseline":
        self.scaler = StandardScaler().fit(x2d)
        features = self.scaler.transform(x2d)
        self.models = []
        for t in range(labels.shape[1]):
            present = ~np.isnan(labels[:, t])
            y = labels[present, t]
            if 0 < y.sum() < len(y):
                model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000, random_state=self.seed)
                self.models.append(model.fit(features[present], y))
            else:
                self.models.append(float(y.mean()) if len(y) else 0.0)
        return self

    def predict_proba(self, x2d: np.ndarray) -> np.ndarray:
        features = self.scaler.transform(x2d)
        columns = [m.predict_proba(features)[:, 1] if hasattr(m, "predict_proba") else np.full(len(features), m)
                   for m in self.models]
        return np.stack(columns, axis=1)


def mean_over_conformers(split):
    """The split with each bag replaced by one instance: the mean 3D vector over its real conformers."""
    def collapse(row):
        x3d, mask = np.asarray(row["x3d"], dtype=np.float32), np.asarray(row["conformer_mask"], dtype=bool)
        single = np.zeros_like(x3d)
        flag = np.zeros(len(mask), dtype=np.int64)
        if mask.any():  # a 2D-only molecule stays without a conformer
            single[0] = x3d[mask].mean(axis=0)
            flag[0] = 1
        return {"x3d": single, "conformer_mask": flag}

    return split.map(collapse, desc="mean over conformers")
