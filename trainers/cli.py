"""The `biohf` command line: the same verbs for every family.

    biohf list
    biohf train FAMILY [--preset demo] [--config FILE.yaml] [--data PATH | --train_file F [--validation_file F] [--test_file F]]
                 [--output_dir DIR] [--learning_rate 3e-4 ...]
    biohf evaluate FAMILY --model DIR [--data PATH] [--output FILE.json] [family options]
    biohf predict FAMILY --model DIR --input FILE --output FILE [family options, e.g. --mirnas FILE --ism]
    biohf export FAMILY [--preset tiny] --output_dir DIR
    biohf diagnose FAMILY [--data PATH] [--output DIR] [family options]   (families with data diagnostics)
    biohf push DIR --repo_id ORG/NAME [--private] [--revision REV]
    biohf demo [--output_dir outputs/demo] [--families mirlm ...]

Flags are spelled with underscores, as in the transformers examples (`--output_dir`); the dash spelling
(`--output-dir`) is accepted as an alias, here and in the arguments passed on to the training scripts.
"""

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

from trainers.arguments import underscore_flags

# family -> module with main(argv) (training), evaluate(model_dir, data, output) and predict(model_dir, input, output, argv)
FAMILY_SCRIPTS = {"mirlm": "trainers.run_mirlm", "e1": "trainers.run_e1", "tissuebert": "trainers.run_tissuebert",
                 "milmol": "trainers.run_milmol", "mutation2text": "trainers.run_mutation2text"}


def _script(family: str):
    return importlib.import_module(FAMILY_SCRIPTS[family])  # argparse has checked the name


def cmd_list(args, extra):
    from hf_models.presets import PRESETS, preset_cost

    print(f"{'family':<14}{'preset':<16}{'parameters':>15}{'fp32 MB':>10}  cost (trainers/configs/<family>_<preset>.yaml)")
    for family in FAMILY_SCRIPTS:
        costs = {preset: preset_cost(family, preset) for preset in PRESETS[family]}
        for preset, cost in sorted(costs.items(), key=lambda item: item[1]["parameters"]):
            print(f"{family:<14}{preset:<16}{cost['parameters']:>15,}{cost['fp32_mb']:>10.1f}  {cost['note']}")


def cmd_train(args, extra):
    argv = ["--preset", args.preset] + (["--config", args.config] if args.config else [])
    argv += (["--data", args.data] if args.data else []) + (["--output_dir", args.output_dir] if args.output_dir else [])
    for name in ("train_file", "validation_file", "test_file"):
        argv += [f"--{name}", getattr(args, name)] if getattr(args, name) else []
    return _script(args.family).main(argv + extra)


def cmd_evaluate(args, extra):
    metrics = _script(args.family).evaluate(args.model, args.data, args.output, extra)
    print(json.dumps(metrics, indent=2))


def cmd_predict(args, extra):
    _script(args.family).predict(args.model, args.input, args.output, extra)


def cmd_diagnose(args, extra):
    script = _script(args.family)
    if not hasattr(script, "diagnose"):
        have = [f for f in FAMILY_SCRIPTS if hasattr(_script(f), "diagnose")]
        raise SystemExit(f"biohf diagnose: the {args.family} family has no data diagnostics (families with them: {', '.join(have) or 'none'})")
    script.diagnose(args.data, args.output, extra)


def cmd_export(args, extra):
    from hf_models.export import export_untrained

    path = export_untrained(args.family, args.preset, args.output_dir)
    print(f"untrained {args.family} ({args.preset}) repository written to {path}")


def cmd_push(args, extra):
    from hf_models.push import push_repository

    url = push_repository(args.folder, args.repo_id, private=args.private, revision=args.revision)
    print(f"pushed {args.folder} to {url}")


def cmd_demo(args, extra):
    """
    Every implemented family at demo scale, then one table of held-out metrics next to the baselines. A family
    that fails is reported (with its traceback) and the others still run; the command then exits non-zero.
    """
    rows, failed = [], []
    for family in args.families or list(FAMILY_SCRIPTS):
        output_dir = Path(args.output_dir) / family
        try:
            metrics = _script(family).main(["--preset", "demo", "--output_dir", str(output_dir)] + extra)
        except Exception:  # one family's failure must not throw away the others' runs
            traceback.print_exc()
            print(f"biohf demo: {family} failed (traceback above); going on with the other families", file=sys.stderr)
            failed.append(family)
            continue
        rows.append((family, output_dir, metrics))
    print("\nHeld-out test metrics (model vs baseline)")
    print(f"{'family':<14}{'metric':<22}{'model':>8}{'baseline':>10}  repository")
    for family, output_dir, metrics in rows:
        for name in metrics["headline_metrics"]:
            model, baseline = metrics["model"].get(name), metrics["baseline"].get(name)
            fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else "-"  # noqa: E731
            print(f"{family:<14}{name:<22}{fmt(model):>8}{fmt(baseline):>10}  {output_dir}")
    if failed:
        raise SystemExit(f"biohf demo: {len(failed)} famil{'y' if len(failed) == 1 else 'ies'} failed: {', '.join(failed)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="biohf", description="Hugging Face-native models for computational biology")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="families, presets and what each preset costs").set_defaults(run=cmd_list)

    train = commands.add_parser("train", help="train a family; extra arguments go to TrainingArguments",
                                description="Any TrainingArguments flag may follow, e.g. --learning_rate 3e-4.")
    train.add_argument("family", choices=list(FAMILY_SCRIPTS))
    train.add_argument("--preset", default="demo")
    train.add_argument("--config", help="YAML/JSON file of arguments (the command line wins)")
    train.add_argument("--data", help="a data file in a supported format; default: the embedded generator")
    for name, what in (("train", "training file"), ("validation", "validation file (default: carved from the training file)"),
                       ("test", "test file, scored whole at the end (families that take separate files)")):
        train.add_argument(f"--{name}_file", help=what)
    train.add_argument("--output_dir", "--output-dir", dest="output_dir", help="where the Hub repository is written")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="held-out metrics of a trained repository next to the baseline")
    evaluate.add_argument("family", choices=list(FAMILY_SCRIPTS))
    evaluate.add_argument("--model", required=True, help="a trained repository folder")
    evaluate.add_argument("--data", help="a data file; default: the embedded data the model was trained on")
    evaluate.add_argument("--output", help="also write the metrics to this JSON file")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="batch inference on a file (family options may follow)")
    predict.add_argument("family", choices=list(FAMILY_SCRIPTS))
    predict.add_argument("--model", required=True)
    predict.add_argument("--input", required=True)
    predict.add_argument("--output", required=True)
    predict.set_defaults(run=cmd_predict)

    diagnose = commands.add_parser("diagnose", help="data diagnostics of a family: a report (Markdown + plots)")
    diagnose.add_argument("family", choices=list(FAMILY_SCRIPTS))
    diagnose.add_argument("--data", help="a data file or folder; default: the embedded generator")
    diagnose.add_argument("--output", help="report folder")
    diagnose.set_defaults(run=cmd_diagnose)

    export = commands.add_parser("export", help="an untrained repository, for its structure")
    export.add_argument("family", choices=list(FAMILY_SCRIPTS))
    export.add_argument("--preset", default="tiny")
    export.add_argument("--output_dir", "--output-dir", dest="output_dir", required=True)
    export.set_defaults(run=cmd_export)

    push = commands.add_parser("push", help="upload a repository folder to the Hugging Face Hub")
    push.add_argument("folder")
    push.add_argument("--repo_id", "--repo-id", dest="repo_id", required=True)
    push.add_argument("--private", action="store_true")
    push.add_argument("--revision", help="branch to push to (created if missing)")
    push.set_defaults(run=cmd_push)

    demo = commands.add_parser("demo", help="every implemented family at demo scale, then a metrics table")
    demo.add_argument("--output_dir", "--output-dir", dest="output_dir", default="outputs/demo")
    demo.add_argument("--families", nargs="*", choices=list(FAMILY_SCRIPTS))
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(underscore_flags(sys.argv[1:] if argv is None else argv))
    if extra and args.command not in ("train", "evaluate", "predict", "demo", "diagnose"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    import hf_models  # noqa: F401  registers every family with the Auto classes

    args.run(args, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
