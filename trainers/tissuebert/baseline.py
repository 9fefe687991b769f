"""The notes' baseline: multinomial logistic regression (scikit-learn) on per-region mean methylation."""

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


class LogisticRegressionBaseline:
    """
    Standardised region means -> multinomial logistic regression (L2, `C`). A missing region (NaN) takes the
    training mean of that region, i.e. 0 after standardising. `num_labels` fixes the probability columns even when
    a tissue is absent from the training split.
    """

    def __init__(self, num_labels: int, C: float = 0.1, max_iter: int = 3000, seed: int = 0):
        self.num_labels = num_labels
        self.model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
        self.scaler = StandardScaler()
        self.fill = None

    def _features(self, means: np.ndarray) -> np.ndarray:
        means = np.asarray(means, dtype=np.float64)
        return self.scaler.transform(np.where(np.isnan(means), self.fill, means))

    def fit(self, means, labels) -> "LogisticRegressionBaseline":
        means = np.asarray(means, dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a region missing in every training sample
            fill = np.nanmean(means, axis=0)
        self.fill = np.where(np.isnan(fill), 0.5, fill)
        self.scaler.fit(np.where(np.isnan(means), self.fill, means))
        self.model.fit(self._features(means), np.asarray(labels))
        return self

    def predict_proba(self, means) -> np.ndarray:
        probabilities = np.zeros((np.asarray(means).shape[0], self.num_labels))
        probabilities[:, self.model.classes_] = self.model.predict_proba(self._features(means))
        return probabilities
