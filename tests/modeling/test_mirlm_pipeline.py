"""The `mirna-target-scan` pipeline on a tiny random mirLM: every output is checked against the model itself."""

import numpy as np
import pytest
import torch
from transformers import pipeline

from hf_models import FAMILIES, make_tokenizer, preset_config
from modeling.mirlm.pipeline_mirlm import MirLMPipeline, window_starts
from modeling.mirlm.sites_mirlm import classify_span

MIRNA = "TGAGGTAGTAGGTTGTATAGTT"  # let-7a; its 8mer site is CTACCTCA


def random_mrna(length: int, seed: int = 0) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), size=length))


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    config = preset_config("mirlm", "tiny")
    model = FAMILIES["mirlm"].head_class(config).eval()
    tokenizer = make_tokenizer("mirlm", config)
    scan = pipeline("mirna-target-scan", model=model, tokenizer=tokenizer)
    return model, tokenizer, scan


def direct(model, tokenizer, mrnas, mirna=MIRNA):
    """Model outputs for `mrnas`, one at a time (so batch composition cannot matter)."""
    outputs = []
    for mrna in mrnas:
        with torch.no_grad():
            outputs.append(model(**tokenizer.encode_pairs(mrna, mirna, padding="longest")))
    return outputs


def test_registered_pipeline_class(parts):
    assert type(parts[2]) is MirLMPipeline


def test_short_mrna(parts):
    model, tokenizer, scan = parts
    mrna = random_mrna(60, seed=1) + "CTACCTCA" + random_mrna(40, seed=2)
    result = scan(mirna=MIRNA, mrna=mrna)
    (out,) = direct(model, tokenizer, [mrna])
    probability = torch.sigmoid(out.binding_logit.float())[0].item()

    assert result["binding_probability"] == probability
    assert result["binds"] == (probability >= model.config.decision_threshold)
    assert result["window_starts"] == [0]
    np.testing.assert_array_equal(result["pos_weights"], out.pos_weights[0, 1 : len(mrna) + 1].numpy())
    assert result["pos_weights"].shape == (len(mrna),)

    # the site: best start/end of the span head, at most len(miRNA) nt, brute force
    start_logits, end_logits = out.start_logits[0, 1 : len(mrna) + 1], out.end_logits[0, 1 : len(mrna) + 1]
    score, start, end = max(
        (start_logits[i] + end_logits[j], i, j) for i in range(len(mrna)) for j in range(i, min(i + len(MIRNA), len(mrna)))
    )
    assert (result["site_start"], result["site_end"]) == (start, end)
    assert result["site_sequence"] == mrna[start : end + 1]
    assert result["site_type"] == classify_span(mrna, MIRNA, start, end)
    expected_sites = [result["site_start"]] if result["binds"] else []
    assert [s["start"] for s in result["sites"]] == expected_sites


def test_rna_alphabet_and_case_are_normalised(parts):
    scan = parts[2]
    mrna = random_mrna(80, seed=9)
    as_rna = scan(mirna=MIRNA.replace("T", "U").lower(), mrna=mrna.replace("T", "U").lower())
    as_dna = scan(mirna=MIRNA, mrna=mrna)
    assert as_rna["binding_probability"] == as_dna["binding_probability"]
    assert as_rna["site_sequence"] == as_dna["site_sequence"] and set(as_rna["site_sequence"]) <= set("ACGT")


def test_long_mrna_is_scanned_in_windows(parts):
    model, tokenizer, scan = parts
    window = model.config.mrna_max_len - 1
    mrna = random_mrna(900, seed=3)
    result = scan(mirna=MIRNA, mrna=mrna)
    starts = window_starts(len(mrna), window, window // 2)
    assert result["window_starts"] == starts and starts[0] == 0 and starts[-1] + window == len(mrna)
    assert all(b - a <= window // 2 for a, b in zip(starts, starts[1:]))

    # the pipeline batches the windows, `direct` runs them one by one: equal up to float rounding
    outputs = direct(model, tokenizer, [mrna[s : s + window] for s in starts])
    probabilities = [torch.sigmoid(o.binding_logit.float())[0].item() for o in outputs]
    assert result["binding_probability"] == pytest.approx(max(probabilities), rel=1e-5)
    best = int(np.argmax(probabilities))
    assert result["site_start"] >= starts[best] and result["site_end"] < starts[best] + window
    assert result["site_sequence"] == mrna[result["site_start"] : result["site_end"] + 1]

    expected = np.zeros(len(mrna), dtype=np.float32)
    for s, o in zip(starts, outputs):
        expected[s : s + window] = np.maximum(expected[s : s + window], o.pos_weights[0, 1:].numpy())
    np.testing.assert_allclose(result["pos_weights"], expected, rtol=1e-4, atol=1e-9)

    # every window above the threshold contributes a site; sites are sorted and do not overlap
    everything = scan(mirna=MIRNA, mrna=mrna, threshold=0.0)["sites"]
    assert 1 <= len(everything) <= len(starts)
    assert all(a["end"] < b["start"] for a, b in zip(everything, everything[1:]))
    for site in everything:
        assert site["sequence"] == mrna[site["start"] : site["end"] + 1]
        assert site["binding_probability"] == pytest.approx(probabilities[starts.index(site["window_start"])], rel=1e-5)
        assert site["site_type"] == classify_span(mrna, MIRNA, site["start"], site["end"])
    assert scan(mirna=MIRNA, mrna=mrna, threshold=1.01)["sites"] == []

    finer = scan(mirna=MIRNA, mrna=mrna, stride=200)
    assert finer["window_starts"] == [0, 200, 381]
    assert finer["binding_probability"] >= 0.0


def test_in_silico_mutagenesis(parts):
    model, tokenizer, scan = parts
    mrna = random_mrna(6, seed=4) + "CTACCTCA" + random_mrna(5, seed=5) + "N"
    result = scan(mirna=MIRNA, mrna=mrna, ism=True, ism_batch_size=32)
    ism = result["ism"]
    assert ism.shape == (len(mrna), 4) and result["ism_window_start"] == 0
    for position, base in enumerate(mrna[:-1]):
        assert ism[position, "ACGT".index(base)] == 0.0
    reference = result["binding_probability"]
    for position in (0, 9, len(mrna) - 1):  # the last one mutates the N
        base = next(b for b in "ACGT" if b != mrna[position])
        mutant = mrna[:position] + base + mrna[position + 1 :]
        (out,) = direct(model, tokenizer, [mutant])
        expected = torch.sigmoid(out.binding_logit.float())[0].item() - reference
        assert ism[position, "ACGT".index(base)] == pytest.approx(expected, abs=1e-6)
    assert np.count_nonzero(ism[-1]) >= 1  # N has no reference column
    assert "ism" not in scan(mirna=MIRNA, mrna=mrna)


def _split(result: dict) -> tuple:
    arrays = {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
    return {k: v for k, v in result.items() if k not in arrays}, arrays


def test_batched_inputs(parts):
    scan = parts[2]
    mrnas = [random_mrna(30, seed=6), random_mrna(600, seed=7), random_mrna(45, seed=8)]
    single = [_split(scan(mirna=MIRNA, mrna=m)) for m in mrnas]
    assert [plain["window_starts"] for plain, _ in single] == [[0], [0, 81], [0]]
    for batched in (
        scan(mirna=MIRNA, mrna=mrnas),
        scan(mirna=[MIRNA] * 3, mrna=mrnas),
        scan([{"mirna": MIRNA, "mrna": m} for m in mrnas]),
        scan([(MIRNA, m) for m in mrnas]),
    ):
        assert len(batched) == 3
        for (plain, arrays), result in zip(single, batched):
            other_plain, other_arrays = _split(result)
            assert plain == other_plain and arrays.keys() == other_arrays.keys()
            for key in arrays:
                np.testing.assert_array_equal(arrays[key], other_arrays[key])


@pytest.mark.parametrize(
    "call, message",
    [
        (dict(mirna=MIRNA, mrna="ACGTXACGT"), "position 4"),  # the tokenizer's error names the position
        (dict(mirna="ACGU!", mrna="ACGT"), "miRNA"),
        (dict(mirna=MIRNA + "ACGTACGTACG", mrna="ACGTACGT"), "more than the 30"),
        (dict(mirna="ACGUA", mrna="ACGTACGT"), "at least 8 nt"),
        (dict(mirna=MIRNA, mrna=""), "empty"),
        (dict(mirna=[MIRNA, MIRNA], mrna=["ACGT"]), "2 miRNAs but 1 mRNAs"),
        (dict(mirna=MIRNA), "give mirna= and mrna="),
        (dict(inputs={"mirna": MIRNA}), "lacks"),
        (dict(mirna=MIRNA, mrna="ACGT" * 10, stride=0), "stride"),
        (dict(mirna=MIRNA, mrna="ACGT" * 10, batch_size=4), "window_batch_size"),
    ],
)
def test_bad_input(parts, call, message):
    scan = parts[2]
    inputs = call.pop("inputs", None)
    with pytest.raises(ValueError, match=message):
        scan(inputs, **call)


def test_window_starts():
    assert window_starts(10, 20, 5) == [0]
    assert window_starts(25, 10, 5) == [0, 5, 10, 15]
    assert window_starts(27, 10, 5) == [0, 5, 10, 15, 17]
