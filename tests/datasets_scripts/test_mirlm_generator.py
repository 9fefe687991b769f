import numpy as np
import pytest

from datasets_scripts.mirlm.generator import (
    NEGATIVE_MIX,
    POSITIVE_MIX,
    SIZES,
    THREE_PRIME_GAPS,
    THREE_PRIME_LENGTHS,
    generate_splits,
    load_human_mirnas,
    summarize,
)
from modeling.mirlm.sites_mirlm import SITE_TYPES, Site, find_sites, reverse_complement

WC = {"A": "T", "C": "G", "G": "C", "T": "A"}


@pytest.fixture(scope="module")
def tiny():
    return generate_splits("tiny", seed=0)


def rows(columns):
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*columns.values())]


def test_human_mirnas_are_real_and_consistent():
    mirnas = {m.name: m for m in load_human_mirnas()}
    assert len(mirnas) >= 40
    assert mirnas["hsa-let-7a-5p"].sequence == "TGAGGTAGTAGGTTGTATAGTT"
    assert mirnas["hsa-miR-21-5p"].family == "AGCTTAT"
    assert mirnas["hsa-miR-1-3p"].family == mirnas["hsa-miR-206"].family == "GGAATGT"
    for m in mirnas.values():
        assert set(m.sequence) <= set("ACGT") and 18 <= len(m.sequence) <= 24
        assert m.family == m.sequence[1:8]


def test_sizes_and_lengths(tiny):
    preset = SIZES["tiny"]
    assert {k: len(v["mrna"]) for k, v in tiny.items()} == preset.n_examples
    for columns in tiny.values():
        lengths = np.array([len(s) for s in columns["mrna"]])
        assert lengths.min() >= preset.min_len and lengths.max() <= preset.max_len
        assert all(set(s) <= set("ACGT") for s in columns["mrna"] + columns["mirna"])
    assert max(p.max_len for p in SIZES.values()) <= 519
    assert SIZES["demo"].n_examples == {"train": 12_000, "validation": 1_500, "test": 1_500}
    assert SIZES["demo"].max_len <= 300


def test_labels_site_types_and_spans_are_consistent(tiny):
    for row in rows(tiny["train"]) + rows(tiny["test"]):
        sites = find_sites(row["mrna"], row["mirna"])
        assert row["label"] == int(row["site_type"] in POSITIVE_MIX)
        assert row["mirna_family"] == row["mirna"][1:8]
        if row["site_type"] in SITE_TYPES:  # exactly the planted canonical site
            assert sites == [Site(row["site_start"], row["site_end"], row["site_type"])]
        else:  # non-canonical positives and every negative: no canonical site at all
            assert sites == [], row
        if row["label"] == 0:
            assert row["site_start"] == row["site_end"] == -1
        else:
            assert 0 <= row["site_start"] <= row["site_end"] < len(row["mrna"])


def seed_pairing(row, q):
    """Per miRNA position m3..m7: 'wc', 'wobble' or 'mismatch' for the 8-nt near-site ending at q+1."""
    out = []
    for k in range(3, 8):
        base, m = row["mrna"][q - (k - 2)], row["mirna"][k - 1]
        out.append("wc" if base == WC[m] else "wobble" if (m, base) in (("G", "T"), ("T", "G")) else "mismatch")
    return out


def test_non_canonical_sites_have_one_seed_defect_and_3prime_compensation(tiny):
    found = 0
    for row in rows(tiny["train"]):
        if row["site_type"] != "non-canonical":
            continue
        found += 1
        q = row["site_end"] - 1  # span is m8..A1
        assert row["mrna"][row["site_end"]] == "A"
        assert sorted(seed_pairing(row, q)).count("wc") == 4
        pairing = reverse_complement(row["mirna"][12:17])  # m13-m17, always paired
        start = row["site_start"]
        assert any(row["mrna"][start - gap - len(pairing): start - gap] == pairing for gap in THREE_PRIME_GAPS), row
    assert found > 10


def test_near_sites_lack_3prime_compensation(tiny):
    reach = 1 + max(THREE_PRIME_GAPS) + max(THREE_PRIME_LENGTHS)
    kinds = set()
    for row in rows(tiny["train"]):
        if row["site_type"] not in ("near-mismatch", "near-wobble"):
            continue
        word = reverse_complement(row["mirna"][12:16])
        # locate the planted 8-nt near-site: 4 of m3-m7 pair, m2 and m8 pair, A1 follows
        candidates = [q for q in range(6, len(row["mrna"]) - 1) if row["mrna"][q + 1] == "A"
                      and row["mrna"][q] == WC[row["mirna"][1]] and row["mrna"][q - 6] == WC[row["mirna"][7]]
                      and seed_pairing(row, q).count("wc") == 4]
        assert candidates, row
        defects = {kind for q in candidates for kind in seed_pairing(row, q) if kind != "wc"}
        kinds |= defects
        q = candidates[0]
        assert word not in row["mrna"][max(0, q - 6 - reach): q - 6]
    assert kinds == {"mismatch", "wobble"}


def test_family_disjoint_and_real_families_in_test(tiny):
    families = {name: set(c["mirna_family"]) for name, c in tiny.items()}
    assert not families["train"] & families["test"]
    assert not families["train"] & families["validation"]
    assert not families["validation"] & families["test"]
    pinned = {"GAGGTAG", "AGCTTAT", "GGAGTGT", "TAATGCT", "GGAATGT"}  # let-7, miR-21, -122, -155, -1/206
    assert not pinned & (families["train"] | families["validation"])
    assert pinned & families["test"]


def test_deterministic_given_seed(tiny):
    assert generate_splits("tiny", seed=0) == tiny
    assert generate_splits("tiny", seed=1)["train"]["mrna"] != tiny["train"]["mrna"]


def test_demo_mix_matches_the_documented_design():
    demo = generate_splits("demo", seed=0)
    summary = summarize(demo["train"])
    assert 0.47 < summary["positive_fraction"] < 0.53
    positives = sum(summary["site_types"][t] for t in POSITIVE_MIX)
    assert abs(summary["site_types"]["non-canonical"] / positives - POSITIVE_MIX["non-canonical"]) < 0.03
    negatives = summary["n"] - positives
    assert abs(summary["site_types"]["none"] / negatives - NEGATIVE_MIX["none"]) < 0.03
    assert summary["families"] > 2000
    composition = np.unique(np.frombuffer("".join(demo["train"]["mrna"]).encode(), dtype=np.uint8), return_counts=True)
    share = dict(zip(map(chr, composition[0]), composition[1] / composition[1].sum()))
    assert share["T"] > share["G"] and share["A"] > share["C"]  # AU-rich 3'UTR background


def test_unknown_size():
    with pytest.raises(ValueError, match="unknown size"):
        generate_splits("huge")
