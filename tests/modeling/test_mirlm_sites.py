import random

import pytest

from modeling.mirlm.sites_mirlm import (
    SITE_TYPES,
    Site,
    best_site,
    classify_span,
    find_sites,
    reverse_complement,
    seed,
    site_sequence,
)

# hsa-let-7a-5p in DNA letters; seed m2-m8 GAGGTAG, m8 = G (pairs with C), m2 = G.
LET7A = "TGAGGTAGTAGGTTGTATAGTT"


def test_site_sequences_are_reverse_complements_of_the_seed():
    assert seed(LET7A) == "GAGGTAG"
    assert reverse_complement("GAGGTAG") == "CTACCTC"
    assert site_sequence(LET7A, "8mer") == "CTACCTCA"
    assert site_sequence(LET7A, "7mer-m8") == "CTACCTC"
    assert site_sequence(LET7A, "7mer-A1") == "TACCTCA"
    assert site_sequence(LET7A, "6mer") == "TACCTC"
    assert site_sequence(LET7A, "offset-6mer") == "CTACCT"
    assert SITE_TYPES == ("8mer", "7mer-m8", "7mer-A1", "6mer", "offset-6mer")


@pytest.mark.parametrize(
    "core, expected",
    [
        ("CTACCTCA", Site(2, 9, "8mer")),
        ("CTACCTC", Site(2, 8, "7mer-m8")),
        ("TACCTCA", Site(2, 8, "7mer-A1")),  # flank G does not pair with m8
        ("TACCTC", Site(2, 7, "6mer")),
        ("CTACCT", Site(2, 7, "offset-6mer")),  # the G after it does not pair with m2
    ],
)
def test_each_canonical_type_is_found_with_its_span(core, expected):
    assert find_sites("GG" + core + "GG", LET7A) == [expected]


def test_mismatch_or_wobble_in_the_seed_breaks_the_site():
    assert find_sites("GGCTACGTCAGG", LET7A) == []  # m4 mismatch
    # m5 is G: a G:U wobble (mRNA U/T instead of C) is not a canonical pair.
    assert find_sites("GGCTATCTCAGG", LET7A) == []


def test_sites_at_the_ends_of_the_mrna():
    assert find_sites("TACCTCAGG", LET7A) == [Site(0, 6, "7mer-A1")]  # no room for m8
    assert find_sites("GGCTACCTC", LET7A) == [Site(2, 8, "7mer-m8")]  # no base for A1


def test_overlapping_candidates_keep_the_best_and_separate_sites_are_all_reported():
    # 7mer-m8 at [0, 6] overlaps the 8mer at [6, 13]: only the 8mer stays.
    assert find_sites("CTACCTCTACCTCA", LET7A) == [Site(6, 13, "8mer")]
    two = "TACCTCGGGGCTACCTCA"
    assert find_sites(two, LET7A) == [Site(0, 5, "6mer"), Site(10, 17, "8mer")]
    assert best_site(two, LET7A) == Site(10, 17, "8mer")
    assert best_site("GGGG", LET7A) is None


def test_classify_span_names_the_most_overlapping_site_or_non_canonical():
    mrna = "TACCTCGGGGCTACCTCAGGGGGG"
    assert classify_span(mrna, LET7A, 11, 14) == "8mer"
    assert classify_span(mrna, LET7A, 0, 5) == "6mer"
    assert classify_span(mrna, LET7A, 19, 22) == "non-canonical"
    with pytest.raises(ValueError, match="invalid span"):
        classify_span(mrna, LET7A, 5, 2)


def test_random_scan_agrees_with_the_site_definitions():
    rng = random.Random(0)
    m8_pair, m2_pair = reverse_complement(LET7A[7]), reverse_complement(LET7A[1])
    seen = set()
    for _ in range(300):
        mrna = "".join(rng.choice("ACGT") for _ in range(40))
        i = rng.randrange(0, 32)
        mrna = mrna[:i] + site_sequence(LET7A, rng.choice(SITE_TYPES)) + mrna[i + 8:]
        mrna = mrna[:40]
        sites = find_sites(mrna, LET7A)
        for a, b in zip(sites, sites[1:]):
            assert a.end < b.start  # non-redundant
        for s in sites:
            seen.add(s.site_type)
            assert mrna[s.start:s.end + 1] == site_sequence(LET7A, s.site_type)
            if s.site_type in ("7mer-A1", "6mer") and s.start > 0:
                assert mrna[s.start - 1] != m8_pair
            if s.site_type in ("7mer-m8", "6mer") and s.end + 1 < len(mrna):
                assert mrna[s.end + 1] != "A"
            if s.site_type == "offset-6mer" and s.end + 1 < len(mrna):
                assert mrna[s.end + 1] != m2_pair
        assert sites, mrna  # the planted site (or a better one around it) is always found
    assert seen == set(SITE_TYPES)


def test_short_mirna_is_rejected():
    with pytest.raises(ValueError, match="at least 8 nt"):
        find_sites("ACGTACGT", "TGAGG")
