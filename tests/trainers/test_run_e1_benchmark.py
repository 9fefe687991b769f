"""`biohf train e1 --train_file/--test_file` end to end at the tiny preset, with an ion the code has never heard of (FE).

The per-ion files are written here by hand (LMetalSite's three-line layout); nothing is copied from real data.
"""

import csv
import json

import numpy as np
import pytest

from trainers.cli import main as biohf


def _protein(rng, length):
    return "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), size=length))


def _write(path, records):
    path.write_text("".join(f">{n}\n{s}\n{''.join(map(str, y))}\n" for n, s, y in records))
    return path


@pytest.fixture(scope="module")
def benchmark_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e1bench")
    rng = np.random.default_rng(1)
    files = {}
    for ion, ligand in (("ZN", "C"), ("FE", "H")):
        for split, count in (("Train", 30), ("Test", 8)):
            records = []
            for k in range(count):
                seq = _protein(rng, int(rng.integers(25, 50)))
                records.append((f"{ion.lower()}{split}{k}", seq, [int(aa == ligand) for aa in seq]))
            files[ion, split] = _write(root / f"{ion}_{split}_{count}.fa", records)
    msas = root / "msas"
    msas.mkdir()
    first = files["ZN", "Train"].read_text().splitlines()[1]
    (msas / "znTrain0.a3m").write_text(f">znTrain0\n{first}\n>hom\n{first[:-2]}--\n")
    output = root / "repo"
    train = f"{files['ZN', 'Train']},{files['FE', 'Train']}"
    test = f"{files['ZN', 'Test']},FE={files['FE', 'Test']}"
    biohf(["train", "e1", "--preset", "tiny", "--output_dir", str(output), "--train_file", train, "--test_file", test,
           "--msa_dir", str(msas), "--max_tokens_per_batch", "400", "--validation_fraction", "0.2"])
    return output, files


def test_an_unseen_ion_gets_its_own_head_threshold_and_metrics(benchmark_run):
    output, _ = benchmark_run
    config = json.loads((output / "config.json").read_text())
    assert config["ions"] == ["ZN", "FE"] and set(config["decision_thresholds"]) == {"ZN", "FE"}
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["split_sizes"]["test"] == 16 and metrics["ions"] == ["ZN", "FE"]
    for side in ("model", "single_sequence", "baseline", "window_lr"):
        assert set(metrics[side]["per_ion"]) == {"ZN", "FE"}, side
    fe = metrics["window_lr"]["per_ion"]["FE"]
    assert fe["n_positive"] > 0 and {"auprc", "auroc", "f1", "mcc", "hra"} <= set(fe)
    assert metrics["window_lr"]["per_ion"]["ZN"]["auprc"] > 0.9  # the fixture's rule (Cys binds) is one residue: learnt
    assert "auprc_fe" in metrics["headline_metrics"]
    card = (output / "README.md").read_text()
    assert "| FE |" in card and "window LR" in card


def test_predict_writes_the_unseen_ion_columns(benchmark_run, tmp_path):
    output, files = benchmark_run
    fasta = tmp_path / "proteins.fa"
    fasta.write_text(">a\nMKCPECGKSFSQSSNLHKHQRTH\n>b\nMEELKDKDGDGTIDFEEFLK\n")
    biohf(["predict", "e1", "--model", str(output), "--input", str(fasta), "--output", str(tmp_path / "out.csv")])
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [r["ID"] for r in rows] == ["a", "b"]
    assert {"ZN_prob", "ZN_pred", "FE_prob", "FE_pred"} <= set(rows[0])
    assert len(rows[0]["FE_pred"]) == len(rows[0]["Sequence"]) == 23


def test_evaluate_scores_the_test_files_whole(benchmark_run, tmp_path):
    from trainers.run_e1 import evaluate

    output, files = benchmark_run
    report = evaluate(output, f"{files['ZN', 'Test']},FE={files['FE', 'Test']}", str(tmp_path / "eval.json"))
    assert report["model"]["n"] == 16 and set(report["model"]["per_ion"]) == {"ZN", "FE"}
    with pytest.raises(ValueError, match="no head for CU"):
        evaluate(output, f"CU={files['FE', 'Test']}")


def test_biohf_diagnose_e1_reads_the_benchmark_the_model_was_trained_on(benchmark_run, tmp_path):
    output, _ = benchmark_run
    biohf(["diagnose", "e1", "--model", str(output), "--output", str(tmp_path / "diagnostics.json")])
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert set(report["context_effect"]) == {"ZN", "FE"}


def test_predict_reads_plain_and_three_line_fasta_and_rejects_other_lines(tmp_path):
    from trainers.e1.predict import read_fasta

    labelled = _write(tmp_path / "ZN_Test_2.fa", [("p1", "MKCAC", [0, 0, 1, 0, 1]), ("p2", "MHHAC", [0, 1, 1, 0, 0])])
    assert read_fasta(labelled, allow_labels=True) == [("p1", "MKCAC"), ("p2", "MHHAC")]
    with pytest.raises(ValueError, match=r"ZN_Test_2.fa:3: not a protein sequence line"):
        read_fasta(labelled)
    broken = tmp_path / "broken.fa"
    broken.write_text(">p1\nMKC1AC\n")
    with pytest.raises(ValueError, match=r"broken.fa:2"):
        read_fasta(broken, allow_labels=True)
