"""The motif-regex baseline: a residue scores 1 for an ion when it is a coordinating position of one of its motifs."""

import numpy as np

from datasets_scripts.e1.motifs import motif_scores


def baseline_scores(sequences: list, ions: list) -> list:
    """Per protein, (length, ions) 0/1 scores of `motifs.PATTERNS`."""
    return [motif_scores(sequence.upper(), list(ions)) for sequence in sequences]


def concatenate(per_protein: list) -> np.ndarray:
    return np.concatenate(per_protein, axis=0) if per_protein else np.zeros((0, 0))


WINDOW_ALPHABET = "ACDEFGHIKLMNPQRSTVWY"  # + one column for any other residue (X, U, ...) and one for "off the end"


def window_features(sequence: str, half_window: int = 7):
    """Sparse (len, (2w + 1) x 22) one-hot of the residues at offsets -w..+w (offset 0 = the residue's identity)."""
    from scipy.sparse import csr_matrix

    symbols = len(WINDOW_ALPHABET) + 2
    index = {aa: k for k, aa in enumerate(WINDOW_ALPHABET)}
    codes = np.array([index.get(aa, len(WINDOW_ALPHABET)) for aa in sequence.upper()], dtype=np.int64)
    length, width = len(codes), 2 * half_window + 1
    positions = np.arange(length)[:, None] + np.arange(-half_window, half_window + 1)[None, :]
    inside = (positions >= 0) & (positions < length)
    window = np.where(inside, codes[np.clip(positions, 0, max(length - 1, 0))], symbols - 1)
    columns = (np.arange(width)[None, :] * symbols + window).ravel()
    rows = np.repeat(np.arange(length), width)
    return csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, columns)), shape=(length, width * symbols))


class WindowLogisticBaseline:
    """
    The classic sequence-only per-residue classifier: per ion, logistic regression on a one-hot window of +-7
    residues (the centre block is the residue's identity). The regularisation C is chosen per ion on validation
    AUPRC from `c_grid`, the decision threshold is the best-F1 threshold on validation; test data is never seen.
    """

    def __init__(self, ions, half_window: int = 7, c_grid=(0.01, 0.1, 1.0)):
        self.ions, self.half_window, self.c_grid = list(ions), half_window, tuple(c_grid)
        self.models, self.thresholds, self.chosen_c, self.validation_auprc = {}, {}, {}, {}

    def _matrix(self, sequences):
        from scipy.sparse import vstack

        return vstack([window_features(s, self.half_window) for s in sequences]).tocsr()

    @staticmethod
    def _labels(split, ion):
        from datasets_scripts.e1.collator import label_column

        return np.concatenate([np.asarray(v) for v in split[label_column(ion)]])

    def fit(self, train, validation) -> "WindowLogisticBaseline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import average_precision_score

        from trainers.e1.metrics import best_f1_threshold

        x_train, x_val = self._matrix(train["sequence"]), self._matrix(validation["sequence"])
        for ion in self.ions:
            y_train, y_val = self._labels(train, ion), self._labels(validation, ion)
            fit_rows, val_rows = y_train != -100, y_val != -100
            if y_train[fit_rows].min(initial=0) == y_train[fit_rows].max(initial=0):
                raise ValueError(f"window LR baseline: the training proteins have no {ion} positives and negatives")
            best = None
            for c in self.c_grid:
                model = LogisticRegression(C=c, solver="liblinear", max_iter=200).fit(x_train[fit_rows], y_train[fit_rows])
                scores = model.predict_proba(x_val[val_rows])[:, 1]
                auprc = float(average_precision_score(y_val[val_rows], scores)) if y_val[val_rows].any() else float("nan")
                if best is None or auprc > best[0]:
                    best = (auprc, c, model, scores)
            self.validation_auprc[ion], self.chosen_c[ion], self.models[ion], scores = best
            self.thresholds[ion] = best_f1_threshold(y_val[val_rows].astype(int), scores)
        return self

    def predict(self, sequences) -> list:
        """Per protein, (length, ions) probabilities."""
        out = []
        for sequence in sequences:
            x = window_features(sequence, self.half_window)
            out.append(np.stack([self.models[ion].predict_proba(x)[:, 1] for ion in self.ions], axis=1).astype(np.float32))
        return out

    def description(self) -> dict:
        return {"half_window": self.half_window, "chosen_c": self.chosen_c, "validation_auprc": self.validation_auprc,
                "thresholds": self.thresholds}
