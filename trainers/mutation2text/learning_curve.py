"""
The learning curve of runs that differ only in `--max_train_examples`: a markdown table of every text metric for
mutation2text, the text-only LLM and retrieval at each training size, and a plot of ROUGE-L and BLEU-4.

    python -m trainers.mutation2text.learning_curve outputs/mutadescribe-n25 outputs/mutadescribe-n50 \
        outputs/mutadescribe-nall [--plot learning_curve.png]
"""

import argparse
import json
from pathlib import Path

from .metrics import TEXT_METRICS

SYSTEMS = (("model", "mutation2text"), ("baseline", "text-only LLM"), ("retrieval", "retrieval"))
NAMES = {"bleu_2": "BLEU-2", "bleu_4": "BLEU-4", "meteor": "METEOR", "rouge_1": "ROUGE-1", "rouge_2": "ROUGE-2",
         "rouge_l": "ROUGE-L"}


def load_runs(folders) -> list:
    """[(number of training rows, metrics.json)] sorted by size."""
    runs = []
    for folder in folders:
        path = Path(folder) / "metrics.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not a finished run")
        metrics = json.loads(path.read_text())
        runs.append((metrics["num_train_examples"], metrics))
    return sorted(runs, key=lambda run: run[0])


def _value(metrics: dict, system: str, key: str) -> str:
    value = (metrics.get(system) or {}).get(key)
    return "—" if value is None else f"{value:.3f}"


def markdown_table(runs: list) -> str:
    header = "| metric | system | " + " | ".join(f"{n} rows" for n, _ in runs) + " |"
    lines = [header, "|" + "---|" * (2 + len(runs))]
    for key in TEXT_METRICS:
        for system, label in SYSTEMS:
            lines.append(f"| {NAMES[key]} | {label} | " + " | ".join(_value(m, system, key) for _, m in runs) + " |")
    return "\n".join(lines)


def plot(runs: list, path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    sizes = [n for n, _ in runs]
    for ax, key in zip(axes, ("rouge_l", "bleu_4")):
        for system, label in SYSTEMS:
            values = [(m.get(system) or {}).get(key) for _, m in runs]
            if all(v is not None for v in values):
                ax.plot(sizes, values, marker="o", label=label)
        ax.set(xlabel="training rows", ylabel=NAMES[key], xticks=sizes)
    axes[0].legend(fontsize=8)
    n_test = runs[-1][1].get("num_test_examples")
    fig.suptitle(f"learning curve, {n_test} held-out rows", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="repository folders of finished runs")
    parser.add_argument("--plot", help="also write the plot to this PNG")
    args = parser.parse_args(argv)
    runs = load_runs(args.runs)
    print(markdown_table(runs))
    if args.plot:
        print(f"plot: {plot(runs, args.plot)}")


if __name__ == "__main__":
    main()
