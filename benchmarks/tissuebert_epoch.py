"""
Epoch time of the sample-level TissueBERT vs the original region-level one on the same data (the design notes saw
~6 s vs ~3 min per epoch on a GPU).

Both models see every training sample once per epoch: the sample-level model as one example per sample (batch 8
samples, the notes' setting), the region-level model as one example per (sample, region) (batch 128 regions, the
notes' setting). One optimizer step (forward + backward + AdamW) of each is timed, interleaved, and an epoch is
steps per epoch x the median step time (the region-level epoch is far too long to run on a CPU).

Data shapes (random inputs of the right shape; the time does not depend on the values):
- demo: the embedded demo atlas (372 training samples x 1,000 regions), `demo` model preset;
- notes: the notes' chr1 subset (455 training files x 4,381 regions), `base` preset (their sizes).

    python -m benchmarks.tissuebert_epoch
    python -m benchmarks.tissuebert_epoch --quick   # toy size, for the smoke test
"""
import math
import os
import sys

import torch

from benchmarks.common import benchmark_parser, environment, interleaved_medians, parse_flags, run_and_report
from hf_models.presets import preset_config
from modeling.tissuebert.modeling_tissuebert import TissueBERTForSequenceClassification

SETUPS = {  # name -> (model preset, training samples, regions)
    "demo": ("demo", 372, 1000),
    "notes": ("base", 455, 4381),
    "tiny": ("tiny", 40, 16),
}
SAMPLE_BATCH, REGION_BATCH = 8, 128


def _step(model, optimizer, batch):
    def step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        model(**batch).loss.backward()
        optimizer.step()
    return step


def measure(name: str, warmup: int, repeats: int) -> dict:
    preset, samples, regions = SETUPS[name]
    torch.manual_seed(0)
    sample_model = TissueBERTForSequenceClassification(preset_config("tissuebert", preset, model_kind="sample", num_regions=regions))
    region_config = preset_config("tissuebert", preset, model_kind="region", num_regions=regions)
    region_model = TissueBERTForSequenceClassification(region_config)
    labels = lambda n: torch.randint(0, 22, (n,))  # noqa: E731
    sample_batch = {"methylation": torch.randint(0, 3, (SAMPLE_BATCH, regions, 150)), "labels": labels(SAMPLE_BATCH)}
    region_batch = {"input_ids": torch.randint(5, 69, (REGION_BATCH, 150)), "methylation": torch.randint(0, 3, (REGION_BATCH, 150)),
                    "labels": labels(REGION_BATCH)}
    steps = {
        "sample": _step(sample_model, torch.optim.AdamW(sample_model.parameters(), 1e-3), sample_batch),
        "region": _step(region_model, torch.optim.AdamW(region_model.parameters(), 1e-4), region_batch),
    }
    times, cpu = interleaved_medians(steps, warmup, repeats)
    sample_steps = math.ceil(samples / SAMPLE_BATCH)
    region_steps = math.ceil(samples * regions / REGION_BATCH)
    return {
        "setup": name, "model_preset": preset, "train_samples": samples, "regions": regions,
        "sample_params_m": sample_model.num_parameters() / 1e6, "region_params_m": region_model.num_parameters() / 1e6,
        "sample_step_ms": 1e3 * times["sample"], "region_step_ms": 1e3 * times["region"],
        "sample_step_cpu_ms": 1e3 * cpu["sample"], "region_step_cpu_ms": 1e3 * cpu["region"],
        "sample_steps_per_epoch": sample_steps, "region_steps_per_epoch": region_steps,
        "sample_epoch_s": sample_steps * times["sample"], "region_epoch_s": region_steps * times["region"],
        "epoch_time_ratio": (region_steps * times["region"]) / (sample_steps * times["sample"]),
    }


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    rows = []
    for name in args.setups:
        rows.append(measure(name, args.warmup, args.repeats))
        print(f"{name}: epoch {rows[-1]['sample_epoch_s']:.1f} s vs {rows[-1]['region_epoch_s']:.0f} s", file=sys.stderr)
    return {
        "benchmark": "tissuebert_epoch",
        "what": "one optimizer step (forward + backward + AdamW) of the sample-level model (batch 8 samples, states "
                "(8, regions, 150) aggregated in the model) and of the region-level model (batch 128 regions x 150 "
                "positions); epoch = steps per epoch x median step time",
        "setup": {"sample_batch": SAMPLE_BATCH, "region_batch": REGION_BATCH, "warmup": args.warmup, "repeats": args.repeats},
        "method": "median wall time of interleaved steps; data loading not included",
        "environment": environment(load_at_start),
        "results": rows,
    }


TABLE_COLUMNS = {
    "setup": "data", "train_samples": "train samples", "regions": "regions", "sample_params_m": "sample-level params (M)",
    "region_params_m": "region-level params (M)", "sample_step_ms": "sample step ms", "region_step_ms": "region step ms",
    "sample_epoch_s": "sample-level epoch s", "region_epoch_s": "region-level epoch s", "epoch_time_ratio": "ratio",
}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "tissuebert_epoch", warmup=1, repeats=5, threads=2)
    parser.add_argument("--setups", nargs="+", choices=sorted(SETUPS), default=["demo", "notes"])
    return parse_flags(parser, argv, quick=dict(setups=["tiny"], warmup=0, repeats=1))


def main(argv=None) -> dict:
    return run_and_report(run, parse_args(argv), TABLE_COLUMNS)


if __name__ == "__main__":
    main()
