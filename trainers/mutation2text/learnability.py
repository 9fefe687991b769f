"""
Is the effect class learnable from the protein at a given data size? A diagnostic without the LLM: the same small
classifier (scikit-learn MLP, one hidden layer of 128) is fitted on the training split's mutations with two feature
sets and scored on the protein-disjoint test split.

    text      what the prompt tells the text-only baseline: wild-type residue, mutant residue, position
    protein   the same + the wild-type residues at offsets -w..+w of the site (one-hot): everything the motif rules
              read (the zinc finger spans 20 residues), in the most directly usable form a protein path could give

If `protein` does not beat `text` here, no protein path can beat the text-only baseline at that size either.

    python -m trainers.mutation2text.learnability --size demo [--window 21] [--seed 0] [--output FILE.json]
"""

import argparse

import numpy as np

from datasets_scripts.mutation2text.generator import generate_splits
from datasets_scripts.mutation2text.properties import EFFECTS
from modeling.mutation2text.mutations_mutation2text import parse_mutations
from trainers.running import write_report

RESIDUES = "ACDEFGHIKLMNPQRSTVWY"


def mutation_features(wild_type: str, mutation: str, window: int) -> np.ndarray:
    """One-hot wild-type and mutant residue, min(position, 30) / 30, and (window > 0) the wild-type residue at each
    offset -window..+window of the site (zeros beyond the ends)."""
    site = parse_mutations(mutation)[0]
    features = np.zeros((3 + 2 * window + 1 if window else 3, len(RESIDUES)))
    features[0, RESIDUES.index(site.wild_type)] = 1
    features[1, RESIDUES.index(site.mutant)] = 1
    features[2, 0] = min(site.position, 30) / 30  # signal peptides sit at the N-terminus
    if window:
        for offset in range(-window, window + 1):
            index = site.position - 1 + offset
            if 0 <= index < len(wild_type):
                features[3 + offset + window, RESIDUES.index(wild_type[index])] = 1
    return features.ravel()


def effect_learnability(size: str = "demo", seed: int = 0, window: int = 21) -> dict:
    from sklearn.neural_network import MLPClassifier

    splits = generate_splits(size, seed)

    def table(split, w):
        x = np.stack([mutation_features(s, m, w) for s, m in zip(splits[split]["wild_type"], splits[split]["mutation"])])
        return x, np.array(splits[split]["effect"])

    report = {"size": size, "seed": seed, "window": window, "n_train": len(splits["train"]["effect"]),
              "n_test": len(splits["test"]["effect"])}
    test_effects = np.array(splits["test"]["effect"])
    majority = max(EFFECTS, key=list(splits["train"]["effect"]).count)
    report["majority_class"] = float(np.mean(test_effects == majority))
    for name, w in (("text", 0), ("protein", window)):
        (x_train, y_train), (x_test, y_test) = table("train", w), table("test", w)
        classifier = MLPClassifier((128,), alpha=1e-2, max_iter=2000, random_state=seed).fit(x_train, y_train)
        report[name] = float(np.mean(classifier.predict(x_test) == y_test))
    return report


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m trainers.mutation2text.learnability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="demo", help="embedded data size: tiny, demo or full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--window", type=int, default=21, help="residues read on each side of the site")
    parser.add_argument("--output", help="write the report as JSON here")
    args = parser.parse_args(argv)
    return write_report(effect_learnability(args.size, args.seed, args.window), args.output)


if __name__ == "__main__":
    main()
