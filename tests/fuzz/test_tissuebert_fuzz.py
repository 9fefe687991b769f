"""
Fuzzing TissueBERT's entry points: the tokenizer (`tok(text)`, `encode_regions`, `encode_samples`), the pipeline
(classifier, region attention, mixture model), the readers (npz / .npy / .beta / HDF5 samples, region BED,
metadata CSV, beta table, beta matrix, GEO series matrix) and `biohf predict tissuebert`.

Every example is built as valid or as broken on purpose; a valid one must give what a plain reference computes
(3-mer ids, region means, masks, shapes, probabilities), a broken one a ValueError / TypeError naming the input (and
the file). Budget: `FAST_EXAMPLES` per property by default; `-m slow` runs `LONG_EXAMPLES` per property (see
tests/fuzz/strategies.py).
"""
import gzip
import io
import itertools

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from datasets_scripts.tissuebert import generate_atlas, read_beta_matrix, read_hdf5, read_metadata, read_series_matrix, write_hdf5
from datasets_scripts.tissuebert.readers import parse_beta_table
from hf_models import make_tokenizer, preset_config
from modeling.tissuebert.formats_tissuebert import read_region_bed
from modeling.tissuebert.modeling_tissuebert import TissueBERTForSequenceClassification
from modeling.tissuebert.pipeline_tissuebert import TissueBERTPipeline
from tests.fuzz.strategies import (FAST_EXAMPLES, LONG_EXAMPLES, assert_clear_error, bad_counts, bad_numbers, beta_values,
                                   corrupt, hostile_text, outcome, run_property, wrong_types)

REGIONS, LENGTH, TISSUES = 12, 150, 5
DNA = "ACGTUNacgtunRYSWKMBDHVryswkmbdhv"  # what the tokenizer reads: bases, U as T, N and IUPAC codes as [UNK]
KMER_ID = {"".join(k): 5 + i for i, k in enumerate(itertools.product("ACGT", repeat=3))}  # the reference vocabulary


class Env:
    """Pipelines of the three sample-level kinds on a 12-region model, and a scratch folder for files."""

    def __init__(self, folder):
        self.folder = folder
        self.pipes = {}
        self.probes = [f"cg{i:08d}" for i in range(REGIONS)]
        for kind in ("sample", "region_attention", "mixture"):
            torch.manual_seed(0)
            config = preset_config("tissuebert", "tiny", model_kind=kind, num_regions=REGIONS, regions=self.probes,
                                   id2label={i: f"tissue{i}" for i in range(TISSUES)},
                                   region_cpg_ranges=[[2 * r, 2 * r + 2] for r in range(REGIONS)])
            model = TissueBERTForSequenceClassification(config).eval()
            if kind == "mixture":
                model.tissuebert.set_reference(torch.rand(REGIONS, TISSUES, generator=torch.Generator().manual_seed(0)))
            self.pipes[kind] = TissueBERTPipeline(model=model, tokenizer=make_tokenizer("tissuebert", config))
        self.tok = self.pipes["sample"].tokenizer
        self.files = itertools.count()

    def path(self, suffix):
        return self.folder / f"input_{next(self.files)}{suffix}"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return Env(tmp_path_factory.mktemp("fuzz"))


# -- references ---------------------------------------------------------------------------------------------------
def reference_kmers(text: str) -> list:
    """Token id per 3-mer start, by the textbook rule: upper case, U = T, any other base letter -> [UNK] (1)."""
    text = text.upper().replace("U", "T")
    return [KMER_ID.get(text[i:i + 3], 1) for i in range(len(text) - 2)]


def reference_means(states) -> list:
    """Per-region mean methylation by counting: methylated / (unmethylated + methylated), NaN without a call."""
    out = []
    for row in np.asarray(states).tolist():
        calls = [s for s in row if s != 2]
        out.append(sum(calls) / len(calls) if calls else float("nan"))
    return out


# -- strategies of samples: (valid?, sample, expected means, expected coverage) ---------------------------------
@st.composite
def samples(draw):
    """A sample in one of its accepted forms, or one broken in one place (`valid` says which)."""
    means = draw(st.lists(beta_values(), min_size=REGIONS, max_size=REGIONS))
    form = draw(st.sampled_from(["array", "list", "tuple", "tensor", "dict", "dict+coverage", "states"]))
    coverage = None
    if form == "states":
        states = np.array(draw(st.lists(st.lists(st.integers(0, 2), min_size=LENGTH, max_size=LENGTH),
                                        min_size=REGIONS, max_size=REGIONS)))
        sample, means = states, reference_means(states)
        coverage = [float((row != 2).sum()) for row in states]
    elif form == "list":
        sample = [None if np.isnan(v) else v for v in means]
    elif form == "tuple":
        sample = tuple(means)
    elif form == "tensor":
        sample = torch.tensor(means, dtype=torch.float64)
    elif form.startswith("dict"):
        sample = {"region_means": np.array(means)}
        if form == "dict+coverage":
            coverage = draw(st.lists(st.floats(0, 1e6), min_size=REGIONS, max_size=REGIONS))
            sample["region_coverage"] = np.array(coverage)
    else:
        sample = np.array(means)
    expected_coverage = [0.0 if np.isnan(m) else (1.0 if coverage is None else c) for m, c in
                         zip(means, coverage or [None] * REGIONS)]
    if not draw(st.booleans()):
        return True, sample, means, expected_coverage
    return (False, draw(broken(sample, form)), None, None)


@st.composite
def broken(draw, sample, form):
    """`sample` broken in one way: a bad value, a wrong length, a wrong type, a bad key, bad coverage."""
    how = draw(st.sampled_from(["value", "length", "type", "key", "coverage", "complex"]))
    if how == "type":
        return draw(wrong_types())
    if how == "key":
        return {"region_means": np.full(REGIONS, 0.5), draw(st.sampled_from(["coverage", "region_coverge", "", "probes_"])): 1}
    if how == "coverage":
        bad = np.ones(REGIONS, dtype=object)
        bad[draw(st.integers(0, REGIONS - 1))] = draw(st.sampled_from([float("nan"), float("inf"), -1.0, "3", None, 1e39, 1j]))
        return {"region_means": np.full(REGIONS, 0.5), "region_coverage": list(bad)}
    if how == "complex":
        return np.full(REGIONS, 0.5) + 1j * draw(st.floats(1e-6, 1))
    if how == "length":
        size = draw(st.integers(0, 3 * REGIONS).filter(lambda n: n != REGIONS))
        return np.full((size, LENGTH) if form == "states" else size, 0.5 if form != "states" else 2)
    if form == "states":
        states = np.array(sample, dtype=object)
        states[draw(st.integers(0, REGIONS - 1)), draw(st.integers(0, LENGTH - 1))] = draw(
            st.sampled_from([3, -1, 0.5, float("nan"), float("inf"), "1", None]))
        return states if draw(st.booleans()) else states.tolist()
    values = [0.5] * REGIONS
    values[draw(st.integers(0, REGIONS - 1))] = draw(bad_numbers())
    return values if draw(st.booleans()) else (np.array(values, dtype=object) if draw(st.booleans()) else tuple(values))


# -- properties ---------------------------------------------------------------------------------------------------
def check_tokenizer_text(env, data):
    """tok(text): DNA gives the reference 3-mer ids; anything else is an error naming the sequence or the type."""
    text = data.draw(st.one_of(st.text(DNA, max_size=30), hostile_text(), wrong_types(), st.lists(st.text(DNA, max_size=8), max_size=3)))
    ok, result = outcome(lambda: env.tok(text)["input_ids"])
    batch = text if isinstance(text, list) else [text]
    if batch and all(isinstance(t, str) and len(t) >= 3 and all(c in DNA for c in t) for t in batch):
        assert ok, f"valid DNA {text!r} refused: {result}"
        assert result == ([reference_kmers(t) for t in batch] if isinstance(text, list) else reference_kmers(text))
    else:
        assert not ok, f"{text!r} accepted as DNA: {result}"
        if not isinstance(text, (str, list)):
            assert isinstance(result, TypeError), repr(result)
        assert "sequence" in str(result) or "text" in str(result), str(result)


def check_encode_regions(env, data):
    """encode_regions: ids = the reference 3-mers + two [PAD]; states as given; a bad base / state / length an error."""
    sequence = data.draw(st.text("ACGTN", min_size=LENGTH, max_size=LENGTH))
    states = data.draw(st.lists(st.integers(0, 2), min_size=LENGTH, max_size=LENGTH))
    valid = data.draw(st.booleans())
    if not valid:
        how = data.draw(st.sampled_from(["base", "state", "length", "type"]))
        if how == "base":
            at = data.draw(st.integers(0, LENGTH - 1))
            sequence = sequence[:at] + data.draw(st.characters(exclude_categories=("Cs",)).filter(lambda c: c not in DNA)) \
                + sequence[at + 1:]
        elif how == "state":
            states[data.draw(st.integers(0, LENGTH - 1))] = data.draw(st.one_of(bad_numbers(), st.just(float("nan")), st.none()).filter(
                lambda v: isinstance(v, bool) or not isinstance(v, (int, float)) or v not in (0, 1, 2)))  # 2.0 is a state
        elif how == "length":
            sequence = sequence[: data.draw(st.integers(0, LENGTH - 1))]
        else:
            sequence = data.draw(wrong_types())
    ok, result = outcome(lambda: env.tok.encode_regions([sequence], [states]))
    if valid:
        assert ok, f"valid region refused: {result}"
        assert result["input_ids"][0].tolist() == reference_kmers(sequence) + [0, 0]
        assert result["methylation"][0].tolist() == states
    else:
        assert not ok, f"a broken region was accepted: {sequence!r}"
        assert any(word in str(result) for word in ("region", "methylation", "sequence")), str(result)


def check_encode_samples(env, data):
    """encode_samples on 1-3 samples: masks, means and coverage equal the reference; one broken sample is an error naming it."""
    drawn = data.draw(st.lists(samples(), min_size=1, max_size=3))
    ok, result = outcome(lambda: env.tok.encode_samples([s for _, s, _, _ in drawn]), "sample #")
    if all(valid for valid, _, _, _ in drawn):
        assert ok, f"valid samples refused: {result}"
        for row, (_, _, means, coverage) in enumerate(drawn):
            mask = [0 if np.isnan(m) else 1 for m in means]
            assert result["region_mask"][row].tolist() == mask
            np.testing.assert_allclose(result["region_means"][row].numpy(), np.nan_to_num(means, nan=0.0), rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(result["region_coverage"][row].numpy(), np.float32(coverage), rtol=1e-6)  # float32 inputs
    else:
        assert not ok, "a broken sample was accepted"
        first_bad = next(i for i, (valid, _, _, _) in enumerate(drawn) if not valid)
        assert f"sample #{first_bad}" in str(result) or "sample #" in str(result)


def check_sample_containers(env, data):
    """encode_samples(container): an empty list, a string, None, a number or a generator is an error, never a guess."""
    container = data.draw(st.one_of(st.just([]), st.just(()), st.text(max_size=5), st.none(), st.integers(), st.floats(),
                                    st.just(iter([np.zeros(REGIONS)])), st.sets(st.integers(), max_size=2)))
    ok, result = outcome(lambda: env.tok.encode_samples(container), "encode_samples")
    assert not ok, f"{container!r} accepted as a batch of samples"


def _check_result(pipe, result, sample_means, top_k=5, min_share=None):
    """A pipeline result against its reference: a distribution over the labels, sorted, the missing regions counted."""
    config = pipe.model.config
    labels = set(config.id2label.values())
    assert result["missing_regions"] == int(np.isnan(sample_means).sum())
    if config.model_kind == "mixture":
        shares = result["shares"]
        assert shares.shape == (TISSUES,) and (shares >= 0).all() and abs(shares.sum() - 1) < 1e-4
        listed = [p["share"] for p in result["proportions"]]
        assert listed == sorted(listed, reverse=True) and {p["label"] for p in result["proportions"]} <= labels
        assert len(listed) == (min(top_k, TISSUES) if min_share is None else int((shares >= min_share).sum()))
        return
    probabilities = result["probabilities"]
    assert probabilities.shape == (TISSUES,) and np.isfinite(probabilities).all() and abs(probabilities.sum() - 1) < 1e-4
    scores = [t["score"] for t in result["top_k"]]
    assert len(scores) == min(top_k, TISSUES) and scores == sorted(scores, reverse=True) and result["label"] in labels
    if config.model_kind == "region_attention":
        attention = result["region_attention"]
        assert attention.shape == (REGIONS,) and (attention[np.isnan(sample_means)] == 0).all()


def check_pipeline_samples(env, data):
    """The pipeline of each kind on an in-memory sample: a valid one gives a well-formed result; a broken one, or one
    without any region with data, an error naming the sample."""
    pipe = env.pipes[data.draw(st.sampled_from(sorted(env.pipes)))]
    valid, sample, means, _ = data.draw(samples())
    if isinstance(sample, (list, tuple)):  # a plain list is several samples: one sample goes in a list of one
        ok, result = outcome(lambda: pipe([sample])[0])
    else:
        ok, result = outcome(lambda: pipe(sample))
    if valid and not np.isnan(means).all():
        assert ok, f"valid sample refused: {result}"
        _check_result(pipe, result, means)
    else:
        assert not ok, f"a broken (or empty) sample was accepted: {sample!r}"
        assert "sample" in str(result), str(result)


def check_pipeline_parameters(env, data):
    """top_k / top_regions / min_share / region_batch_size: integers >= 1 (>= 0) and shares in [0, 1], else an error naming them."""
    kind = data.draw(st.sampled_from(sorted(env.pipes)))
    pipe = env.pipes[kind]
    name = data.draw(st.sampled_from(["top_k", "top_regions", "min_share"] if kind == "mixture" else ["top_k", "top_regions"]))
    valid = data.draw(st.booleans())
    if name == "min_share":
        value = data.draw(st.floats(0, 1)) if valid else data.draw(st.one_of(bad_numbers(), st.just(float("nan"))))
    else:
        value = data.draw(st.integers(0 if name == "top_regions" else 1, 50)) if valid else data.draw(
            bad_counts().filter(lambda v: name != "top_regions" or not (isinstance(v, int) and not isinstance(v, bool) and v == 0)))
    means = np.array(data.draw(st.lists(beta_values(missing=0), min_size=REGIONS, max_size=REGIONS)))
    ok, result = outcome(lambda: pipe(means, **{name: value}), name)
    if valid:
        assert ok, f"{name}={value!r} refused: {result}"
        _check_result(pipe, result, means, **({name: value} if name in ("top_k", "min_share") else {}))
        if name == "top_regions" and kind == "region_attention":
            assert len(result["informative_regions"]) <= value
    else:
        assert not ok, f"{name}={value!r} accepted"
    ok, result = outcome(lambda: pipe([]), "empty list")
    assert not ok


def check_probe_samples(env, data):
    """{"probes", "betas"}: aligned by id (absent probes missing); duplicate / non-string ids, bad betas, bad keys: errors."""
    pipe = env.pipes[data.draw(st.sampled_from(sorted(env.pipes)))]
    present = data.draw(st.lists(st.sampled_from(env.probes), min_size=REGIONS // 2, max_size=REGIONS, unique=True))
    extra = data.draw(st.lists(st.text("cgxyz0123456789", min_size=1, max_size=8).filter(lambda p: p not in env.probes),
                               max_size=4, unique=True))
    probes = present + extra
    betas = data.draw(st.lists(beta_values(missing=0.1), min_size=len(probes), max_size=len(probes)))
    sample = {"probes": probes, "betas": betas}
    valid = data.draw(st.booleans())
    if not valid:
        how = data.draw(st.sampled_from(["duplicate", "id type", "beta", "length", "key", "type"]))
        if how == "duplicate":
            sample["probes"] = probes + [probes[0]]
            sample["betas"] = betas + [0.5]
        elif how == "id type":
            sample["probes"] = probes[:-1] + [data.draw(st.one_of(st.integers(), st.none(), st.just(""), st.binary(max_size=3)))]
        elif how == "beta":
            sample["betas"] = betas[:-1] + [data.draw(bad_numbers())]
        elif how == "length":
            sample["betas"] = betas + [0.5]
        elif how == "key":
            sample["extra"] = 1
        else:
            sample["betas"] = data.draw(wrong_types().filter(lambda v: not isinstance(v, list)))
    ok, result = outcome(lambda: pipe(sample), "probe sample")
    if valid:
        given = dict(zip(probes, betas))
        expected = np.array([given.get(p, np.nan) for p in env.probes], dtype=np.float64)
        assert ok == (not np.isnan(expected).all()), f"{result}"  # no region with data at all: an error
        if ok:
            _check_result(pipe, result, expected)
    else:
        assert not ok, f"a broken probe sample was accepted: {sample!r}"


@st.composite
def sample_file(draw, env):
    """(path, valid means or None when broken, kind): a .npz / .npy / .beta sample file, intact or corrupted."""
    suffix = draw(st.sampled_from([".npz", ".npy", ".beta"]))
    states = np.array(draw(st.lists(st.lists(st.integers(0, 2), min_size=LENGTH, max_size=LENGTH), min_size=REGIONS,
                                    max_size=REGIONS)), dtype=np.uint8)
    buffer = io.BytesIO()
    if suffix == ".npz":
        np.savez_compressed(buffer, methylation=states, dna_tokens=np.zeros_like(states), tissue_label=np.int64(1))
        means = reference_means(states)
    elif suffix == ".npy":
        means = reference_means(states)
        np.save(buffer, np.array(means, dtype=np.float32))
    else:  # two CpGs per region: (methylated, coverage) uint8 pairs
        calls = np.array(draw(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)).map(sorted),
                                       min_size=2 * REGIONS, max_size=2 * REGIONS)), dtype=np.uint8)
        buffer.write(calls.tobytes())
        hits, cover = calls[:, 0].reshape(REGIONS, 2).sum(1), calls[:, 1].reshape(REGIONS, 2).sum(1)
        means = [h / c if c else float("nan") for h, c in zip(hits.tolist(), cover.tolist())]
    content, kind = buffer.getvalue(), "intact"
    if draw(st.booleans()):
        kind, content = draw(corrupt(content, text=False))
        means = None
    path = env.path(suffix)
    path.write_bytes(content)
    return path, means, kind


def check_pipeline_files(env, data):
    """Sample files: intact ones give the reference region means; corrupted ones fail naming the file (or, where the
    damage left a file that is still valid, e.g. a .beta cut at a pair boundary, a well-formed result)."""
    pipe = env.pipes[data.draw(st.sampled_from(["sample", "region_attention"]))]
    path, means, kind = data.draw(sample_file(env))
    ok, result = outcome(lambda: pipe(str(path)), path)
    if kind == "intact" and not np.isnan(means).all():
        assert ok, f"an intact {path.suffix} file refused: {result}"
        _check_result(pipe, result, means)
    elif kind == "intact":
        assert not ok and "no region has a methylation call" in str(result)
    elif ok:
        assert np.isfinite(result["probabilities"]).all() and abs(result["probabilities"].sum() - 1) < 1e-4


# -- text readers --------------------------------------------------------------------------------------------------
HOSTILE_VALUES = ["inf", "-inf", "1e999", "1_0", "0x1", "٠.٥", "0.5.1", "1.5", "-0.1", "'0.5'", "0.5abc", "\x7f"]


@st.composite
def beta_matrix_text(draw, series=False):
    """(text, probes, samples, values): a probe x sample matrix (CSV / TSV) or a GEO series matrix."""
    samples_ = draw(st.lists(st.text("ABCDEFGHabcdefgh_0123456789", min_size=1, max_size=8), min_size=1, max_size=4, unique=True))
    probes = draw(st.lists(st.text("cg0123456789", min_size=3, max_size=10), min_size=1, max_size=8, unique=True))
    values = [[draw(beta_values(0.2)) for _ in samples_] for _ in probes]
    text_of = lambda v: "NA" if np.isnan(v) else repr(float(v))  # noqa: E731
    if series:
        lines = ["!Series_title\t\"fuzz\"", "!Sample_title\t" + "\t".join(f'"{s}"' for s in samples_),
                 "!series_matrix_table_begin", "\t".join(['"ID_REF"'] + [f'"{s}"' for s in samples_])]
        lines += ["\t".join([f'"{p}"'] + [text_of(v).replace("NA", "null") for v in row]) for p, row in zip(probes, values)]
        lines += ["!series_matrix_table_end"]
        delimiter = "\t"
    else:
        delimiter = draw(st.sampled_from([",", "\t"]))
        lines = [delimiter.join(["probe"] + samples_)] + [delimiter.join([p] + [text_of(v) for v in row])
                                                          for p, row in zip(probes, values)]
    return "\n".join(lines) + "\n", probes, samples_, np.array(values, dtype=np.float32), delimiter


def check_array_readers(env, data):
    """Beta / series matrices: intact files read back exactly; a hostile value, a short row, UTF-16, binary or
    truncated gzip content is a ValueError naming the file (a truncated file may read as its intact first rows)."""
    series = data.draw(st.booleans())
    text, probes, samples_, values, delimiter = data.draw(beta_matrix_text(series))
    kind = data.draw(st.sampled_from(["intact", "value", "short row", "bytes"]))
    if kind == "value":
        lines = text.split("\n")
        row = (4 if series else 1) + data.draw(st.integers(0, len(probes) - 1))
        fields = lines[row].split(delimiter)
        fields[data.draw(st.integers(1, len(fields) - 1))] = data.draw(st.sampled_from(HOSTILE_VALUES))
        lines[row] = delimiter.join(fields)
        content = "\n".join(lines).encode("utf-8")
    elif kind == "short row":
        lines = text.split("\n")
        row = (4 if series else 1) + data.draw(st.integers(0, len(probes) - 1))
        lines[row] = lines[row].rsplit(delimiter, 1)[0] if len(samples_) > 1 else lines[row] + delimiter + "0.5"
        content = "\n".join(lines).encode("utf-8")
    elif kind == "bytes":
        kind, content = data.draw(corrupt(text.encode("utf-8")))
    else:
        content = text.encode("utf-8")
    gz = kind == "gzip-truncated" or data.draw(st.booleans())
    path = env.path((".txt" if series else (".csv" if delimiter == "," else ".tsv")) + (".gz" if gz else ""))
    path.write_bytes(content if kind == "gzip-truncated" or not gz else gzip.compress(content))
    reader = read_series_matrix if series else read_beta_matrix
    ok, result = outcome(lambda: reader(path), path)
    if kind == "intact":
        assert ok, f"an intact matrix refused: {result}"
        assert result.probes == probes and result.samples == samples_
        np.testing.assert_array_equal(result.values, values)
    elif kind == "truncated" and ok:
        assert result.samples == samples_ and result.probes == probes[: len(result.probes)]
        np.testing.assert_array_equal(result.values[:-1], values[: len(result.probes) - 1])
    elif kind in ("value", "short row", "utf16", "nul", "gzip-truncated", "empty"):
        assert not ok, f"a {kind} file was accepted"


def check_metadata_and_bed(env, data):
    """metadata.csv: a row cut short or too long, a control character, UTF-16 -> error naming file and line.
    Region BED: only a named header line is skipped; a non-integer first row is an error, never a 'header'."""
    if data.draw(st.booleans()):
        rows = data.draw(st.lists(st.tuples(st.text("abcdef0123456789_", min_size=1, max_size=8).map(lambda s: s + ".npz"),
                                            st.sampled_from(["Liver", "Lung", "Blood"]), st.integers(0, 21)),
                                  min_size=1, max_size=6, unique_by=lambda r: r[0]))
        lines = ["filename,tissue,tissue_index,group"] + [f"{f},{t},{i},g{i}" for f, t, i in rows]
        kind = data.draw(st.sampled_from(["intact", "cut", "long", "control", "utf16", "bytes"]))
        at = 1 + data.draw(st.integers(0, len(rows) - 1))
        if kind == "cut":
            lines[at] = lines[at][: lines[at].rindex(",")]  # the row ends before its last field
        elif kind == "long":
            lines[at] += ",extra"
        elif kind == "control":
            lines[at] = lines[at].replace(",", "," + data.draw(st.sampled_from(["\x01", "\x1b", "\x7f", "\x00"])), 1)
        content = ("\n".join(lines) + "\n").encode("utf-8")
        if kind == "utf16":
            content = content.decode().encode("utf-16")
        elif kind == "bytes":
            kind, content = data.draw(corrupt(content))
        path = env.path(".csv")
        path.write_bytes(content)
        ok, result = outcome(lambda: read_metadata(path), path)
        if kind == "intact":
            assert ok and result["filename"] == [f for f, _, _ in rows] and result["tissue_index"] == [i for _, _, i in rows]
        elif kind in ("cut", "long", "control", "utf16", "nul"):
            assert not ok, f"a metadata file with a {kind} row was accepted"
            if kind in ("cut", "long", "control"):
                assert f"{path}:{at + 1}" in str(result), str(result)
        return
    regions = data.draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 500), st.integers(0, 10**5), st.integers(0, 50)),
                                 min_size=1, max_size=6))
    lines = [f"chr1\t{s}\t{s + w}\t{c}\t{c + n}" for s, w, c, n in regions]
    kind = data.draw(st.sampled_from(["intact", "header", "bad first row", "bytes"]))
    if kind == "header":
        lines.insert(0, "chr\tstart\tend\tstartCpG\tendCpG")
    elif kind == "bad first row":
        fields = lines[0].split("\t")
        fields[data.draw(st.integers(1, 4))] = data.draw(st.sampled_from(["abc", "1.5", "-3", "1_000", "١٢", "", "0x10", "9" * 40]))
        lines[0] = "\t".join(fields)
    content = ("\n".join(lines) + "\n").encode("utf-8")
    if kind == "bytes":
        kind, content = data.draw(corrupt(content))
    path = env.path(".bed")
    path.write_bytes(content)
    ok, result = outcome(lambda: read_region_bed(path), path)
    if kind in ("intact", "header"):
        assert ok, f"a valid BED refused: {result}"
        assert result[1].tolist() == [[c, c + n] for _, _, c, n in regions]
    elif kind in ("bad first row", "utf16", "nul", "gzip-truncated", "empty"):
        assert not ok, f"a BED with a {kind} was accepted"


def check_beta_table_and_hdf5(env, data):
    """Region x sample beta tables and HDF5 atlases: intact files read back; broken or truncated ones name the file."""
    if data.draw(st.booleans()):
        samples_ = data.draw(st.lists(st.sampled_from(["s1", "s2", "s3", "s4"]), min_size=1, max_size=3, unique=True))
        rows = data.draw(st.lists(st.lists(beta_values(0.2), min_size=len(samples_), max_size=len(samples_)), min_size=1, max_size=6))
        lines = ["\t".join(["chr", "start", "end"] + samples_)]
        lines += ["\t".join(["chr1", str(10 * i), str(10 * i + 5)] + ["NA" if np.isnan(v) else repr(float(v)) for v in row])
                  for i, row in enumerate(rows)]
        kind = data.draw(st.sampled_from(["intact", "value", "position", "bytes"]))
        if kind == "value":
            fields = lines[1].split("\t")
            fields[3] = data.draw(st.sampled_from(HOSTILE_VALUES))
            lines[1] = "\t".join(fields)
        elif kind == "position":
            lines[1] = lines[1].replace("\t0\t", "\t" + data.draw(st.sampled_from(["x", "1.5", "-1", "٣", "9" * 4400])) + "\t", 1)
        content = ("\n".join(lines) + "\n").encode("utf-8")
        if kind == "bytes":
            kind, content = data.draw(corrupt(content))
        path = env.path(".tsv")
        path.write_bytes(content)
        ok, result = outcome(lambda: parse_beta_table(path), path)
        if kind == "intact":
            assert ok and result[0] == samples_
            np.testing.assert_array_equal(result[2], np.array(rows, dtype=np.float32).T)
        elif kind in ("value", "position", "utf16", "nul", "empty"):
            assert not ok, f"a beta table with a bad {kind} was accepted"
        return
    source = env.folder / "h5" / "atlas.h5"
    if not source.exists():
        write_hdf5(generate_atlas("tiny", seed=0), source)
    content = source.read_bytes()
    cut = data.draw(st.floats(0, 0.99))
    path = env.path(".h5")
    path.write_bytes(content[: int(len(content) * cut)])
    ok, result = outcome(lambda: read_hdf5(path, progress=False), path)
    assert not ok, "a truncated HDF5 file was accepted"


def check_predict(env, data):
    """`biohf predict tissuebert`: bad --top_k / --min_share, and broken input files, are errors naming them."""
    import trainers.tissuebert.predict as predict_module

    kind = data.draw(st.sampled_from(["sample", "mixture"]))
    original = predict_module.load_pipeline
    predict_module.load_pipeline = lambda model_dir: env.pipes[kind]
    try:
        text, probes, samples_, values, delimiter = data.draw(beta_matrix_text())
        text = text.replace("probe", "ID", 1)
        matrix = "\n".join([text.split("\n")[0]] + [delimiter.join([p] + ["0.5"] * len(samples_)) for p in env.probes]) + "\n"
        broken = data.draw(st.booleans())
        content = matrix.encode()
        if broken:
            _, content = data.draw(corrupt(content).filter(lambda kc: kc[0] in ("utf16", "nul", "gzip-truncated", "empty")))
        path = env.path(".csv" if delimiter == "," else ".tsv")
        path.write_bytes(content)
        option = data.draw(st.sampled_from([[], ["--top_k", data.draw(st.sampled_from(["0", "-2", "3"]))],
                                            ["--min_share", data.draw(st.sampled_from(["nan", "-0.5", "2", "0.1"]))]]))
        bad_option = option in (["--top_k", "0"], ["--top_k", "-2"]) and kind != "mixture" or \
            (option[:1] == ["--min_share"] and option[1] != "0.1" and kind == "mixture")
        output = env.path(".out.csv")
        ok, result = outcome(lambda: predict_module.predict("unused", str(path), str(output), option))
        if broken or bad_option:
            assert not ok, "predict accepted a broken input or option"
            assert str(path) in str(result) or option[0] in str(result) or option[0].strip("-") in str(result), str(result)
        else:
            assert ok, f"predict refused a valid input: {result}"
            assert result == len(samples_) and len(output.read_text().splitlines()) == len(samples_) + 1
    finally:
        predict_module.load_pipeline = original


PROPERTIES = [check_tokenizer_text, check_encode_regions, check_encode_samples, check_sample_containers,
              check_pipeline_samples, check_pipeline_parameters, check_probe_samples, check_pipeline_files,
              check_array_readers, check_metadata_and_bed, check_beta_table_and_hdf5, check_predict]


@pytest.mark.parametrize("check", PROPERTIES, ids=lambda c: c.__name__[6:])
def test_fuzz(env, check):
    assert run_property(check, env, FAST_EXAMPLES) >= FAST_EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("check", PROPERTIES, ids=lambda c: c.__name__[6:])
def test_fuzz_long(env, check):
    """The long run: `LONG_EXAMPLES` (default 1,200) per property, 14,400 examples over the 12 properties."""
    calls = run_property(check, env, LONG_EXAMPLES, long=True)
    print(f"{check.__name__}: {calls} examples")
    assert calls >= LONG_EXAMPLES  # the budget was spent, not cut short


def test_errors_name_the_input(env, tmp_path):
    """The classes of issue 21 one by one, with the exact messages (the fuzz properties above check them in bulk)."""
    pipe, tok = env.pipes["sample"], env.tok
    with pytest.raises(ValueError, match="empty list of samples"):
        pipe([])
    with pytest.raises(ValueError, match="complex numbers"):
        tok.encode_samples([np.full(REGIONS, 0.5) + 0.1j])
    with pytest.raises(ValueError, match="region_coverage must be 12 finite"):
        tok.encode_samples([{"region_means": np.full(REGIONS, 0.5), "region_coverage": np.full(REGIONS, np.nan)}])
    with pytest.raises(TypeError, match="sample #0: expected 12 region means"):
        tok.encode_samples([{"a": 1}.keys()])
    with pytest.raises(ValueError, match="top_k must be an integer >= 1, got 0"):
        pipe(np.full(REGIONS, 0.5), top_k=0)
    with pytest.raises(TypeError, match="top_k must be an integer >= 1, got float nan"):
        pipe(np.full(REGIONS, 0.5), top_k=float("nan"))
    with pytest.raises(ValueError, match="min_share must be a number in"):
        env.pipes["mixture"](np.full(REGIONS, 0.5), min_share=float("nan"))
    with pytest.raises(ValueError, match="invalid character '\\['"):
        tok("ACGT[MASK]")
    bad = tmp_path / "s.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match=f"{bad}: not a readable .npy"):
        pipe(str(bad))
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\tfoo\t10\t0\t2\nchr1\t0\t10\t0\t2\n")
    with pytest.raises(ValueError, match=f"{bed}:1: start, end, startCpG, endCpG must be non-negative integers"):
        read_region_bed(bed)
    meta = tmp_path / "metadata.csv"
    meta.write_text("filename,tissue,group\na.npz,Liver,g1\nb.npz,Liv\n")
    with pytest.raises(ValueError, match=f"{meta}:3: 2 field"):
        read_metadata(meta)
    npz = tmp_path / "x.npz"
    np.savez(npz, methylation=np.full((REGIONS, LENGTH), 1.5))
    with pytest.raises(ValueError, match=f"{npz}: methylation states must be 0, 1 or 2"):
        pipe(str(npz))


def test_broken_files_are_named(env, tmp_path):
    """Binary, UTF-16, truncated gzip / npz / HDF5 files: a ValueError naming the file, never a decoding error."""
    utf16 = tmp_path / "metadata.csv"
    utf16.write_bytes("filename,tissue\na.npz,Liver\n".encode("utf-16"))
    with pytest.raises(ValueError, match=f"{utf16}:1: .*UTF-16"):
        read_metadata(utf16)
    matrix = tmp_path / "atlas.csv.gz"
    matrix.write_bytes(gzip.compress(b"probe,Liver\n" + b"".join(b"cg%06d,0.5\n" % i for i in range(2000)))[:300])
    with pytest.raises(ValueError, match=f"{matrix}: a truncated or corrupt gzip file"):
        read_beta_matrix(matrix)
    series = tmp_path / "GSE1_series_matrix.txt"
    series.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=str(series)):
        read_series_matrix(series)
    npz = tmp_path / "sample.npz"
    np.savez_compressed(npz, methylation=np.full((REGIONS, LENGTH), 2, dtype=np.uint8))
    npz.write_bytes(npz.read_bytes()[:-40])
    with pytest.raises(ValueError, match=f"{npz}: not a readable .npz file"):
        env.pipes["region_attention"](str(npz))
    h5 = tmp_path / "h5" / "atlas.h5"
    write_hdf5(generate_atlas("tiny", seed=0), h5)
    h5.write_bytes(h5.read_bytes()[:5000])
    with pytest.raises(ValueError, match=f"{h5}: not a readable HDF5 file"):
        read_hdf5(h5, progress=False)
