"""E1 data: generated families follow the motif grammar and conserve sites in homologs; readers; family-disjoint splits."""

import re

import numpy as np
import pytest

from datasets_scripts.e1.builder import build_e1_dataset
from datasets_scripts.e1 import (family_disjoint_split, family_folds, generate_proteins, homology_groups,
                                 motif_scores, read_biolip, read_label_fasta, read_label_fastas)
from datasets_scripts.e1.motifs import PATTERNS, SITES, _filler, non_canonical, spacer_positions

IONS = ["ZN", "CA", "MG"]


@pytest.fixture(scope="module")
def rows():
    return generate_proteins("tiny", seed=3)


NON_CANONICAL = {"zn_c2hc", "zn_treble_clef_his", "ca_ef_hand_noncanonical", "mg_ddxxe"}


def test_labels_sit_on_coordinating_residues_of_a_real_motif(rows):
    residues = {"ZN": set("CH"), "CA": set("DNSTEGILVAKRQMFYWP"), "MG": set("DE")}
    labelled = 0
    for row in rows:
        canonical_only = not set(row["site_types"].split(",")) & NON_CANONICAL
        for ion in IONS:
            labels = np.array(row[f"labels_{ion.lower()}"])
            assert len(labels) == len(row["sequence"])
            for position in np.flatnonzero(labels == 1):
                assert row["sequence"][position] in residues[ion], (row["id"], ion, position)
                labelled += 1
            # in a protein with canonical sites only, every labelled residue is a coordinating position of a regex match
            if canonical_only:
                regex = motif_scores(row["sequence"], IONS)[:, IONS.index(ion)]
                assert bool((regex[labels == 1] == 1).all()), (row["id"], ion)
    assert labelled > 20


@pytest.mark.parametrize("kind", ["zn_c2h2", "zn_treble_clef", "ca_ef_hand", "mg_ddxxd"])
def test_non_canonical_sites_keep_their_ligand_positions_but_escape_the_canonical_regex(kind):
    rng = np.random.default_rng(0)
    for _ in range(20):
        segment, offsets, ion, _ = SITES[kind](rng)
        variant, variant_kind = non_canonical(rng, kind, segment, offsets)
        assert variant_kind != kind and len(variant) == len(segment)
        assert sum(a != b for a, b in zip(variant, segment)) == 1  # one residue changed
        padded = "GG" + variant + "GG"
        regex = motif_scores(padded, IONS)[:, IONS.index(ion)]
        assert not (regex[[2 + o for o in offsets]] == 1).all(), (kind, variant)
        assert motif_scores("GG" + segment + "GG", IONS)[[2 + o for o in offsets], IONS.index(ion)].all()
    assert non_canonical(rng, "mg_had", "DADAT", [0, 2]) == ("DADAT", "mg_had")


@pytest.mark.parametrize("kind", sorted(SITES))
def test_spacers_are_free_positions_of_the_motif(kind):
    """Re-drawing every spacer keeps a canonical site a canonical site (same ligands, regex still matches them)."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        segment, offsets, ion, _ = SITES[kind](rng)
        spacers = spacer_positions(kind, segment, offsets)
        assert spacers and not set(spacers) & set(offsets)
        chars = list(segment)
        for position, aa in zip(spacers, _filler(rng, len(spacers))):
            chars[position] = aa
        regex = motif_scores("GG" + "".join(chars) + "GG", IONS)[:, IONS.index(ion)]
        assert (regex[[2 + o for o in offsets]] == 1).all(), (kind, segment, "".join(chars))


@pytest.fixture(scope="module")
def demo_rows():
    return generate_proteins("demo", seed=0)


def test_family_members_share_ligands_but_not_every_spacer(demo_rows):
    """Members of a family keep the coordinating residues of its sites; the free 'x' residues between them vary."""
    families = {}
    for row in demo_rows:
        families.setdefault(row["family"], []).append(row)
    compared = differing = 0
    for members in families.values():
        if len(members) < 2 or members[0]["site_types"] != "mg_had":
            continue
        sites = []
        for row in members:
            ligands = np.flatnonzero(np.array(row["labels_mg"]) == 1)
            sites.append(row["sequence"][ligands[0]: ligands[-1] + 1])
        assert len({len(site) for site in sites}) == 1 and len({site[0] + site[-1] for site in sites}) == 1
        compared += 1
        differing += len(set(sites)) > 1
    assert compared >= 5 and 0 < differing < compared


def test_regex_is_not_an_oracle_on_the_demo_data(demo_rows):
    """Non-canonical sites (missed) and exact motifs that bind nothing (false hits) keep the regex imperfect per ion."""
    rows = demo_rows
    for ion in IONS:
        labels = np.concatenate([row[f"labels_{ion.lower()}"] for row in rows])
        hits = np.concatenate([motif_scores(row["sequence"], IONS)[:, IONS.index(ion)] for row in rows])
        recall, precision = hits[labels == 1].mean(), labels[hits == 1].mean()
        assert 0.5 < recall < 0.95 and 0.4 < precision < 0.9, (ion, recall, precision)


def test_ef_hand_labels_positions_1_3_5_7_9_12_of_the_loop(rows):
    found = 0
    for row in rows:
        labels = np.flatnonzero(np.array(row["labels_ca"]) == 1)
        for start in labels[::6]:
            loop = list(range(start, start + 12))
            if set(labels) >= {loop[i - 1] for i in (1, 3, 5, 7, 9, 12)}:
                found += 1
                assert row["sequence"][start] == "D" and row["sequence"][start + 11] in "ED" and row["sequence"][start + 5] == "G"
    assert found > 0


def test_homologs_conserve_sites_but_not_decoys(demo_rows):
    """Real coordinating residues stay in homologs far more often than chance motif matches do."""
    site_kept, decoy_kept = [], []
    for row in demo_rows:
        labels = np.zeros(len(row["sequence"]), bool)
        for ion in IONS:
            labels |= np.array(row[f"labels_{ion.lower()}"]) == 1
        regex = motif_scores(row["sequence"], IONS).any(axis=1)
        canonical_only = not set(row["site_types"].split(",")) & NON_CANONICAL
        for homolog in row["homologs"]:
            hom_regex = motif_scores(homolog, IONS).any(axis=1).sum()
            if labels.any() and canonical_only:
                site_kept.append(hom_regex >= labels.sum())
            if (regex & ~labels).any() and not labels.any():
                decoy_kept.append(hom_regex >= (regex & ~labels).sum())
    assert len(site_kept) > 20 and len(decoy_kept) > 5
    assert np.mean(site_kept) > 0.75 and np.mean(decoy_kept) < 0.4


def test_generation_is_deterministic_and_families_are_disjoint_across_splits():
    assert generate_proteins("tiny", seed=1) == generate_proteins("tiny", seed=1)
    data = build_e1_dataset(size="tiny", seed=1)
    families = {name: set(data[name]["family"]) for name in data}
    assert not families["train"] & families["validation"] and not families["train"] & families["test"]
    assert not families["validation"] & families["test"]


def test_folds_keep_groups_together():
    groups = ["a", "a", "b", "c", "c", "c", "d", "e"]
    folds = family_folds(groups, 3, seed=0)
    for g in set(groups):
        assert len({f for f, h in zip(folds, groups) if h == g}) == 1
    assert set(folds) == {0, 1, 2}
    with pytest.raises(ValueError, match="cannot fill"):
        family_folds(["a", "b"], 3)
    split = family_disjoint_split([str(i // 2) for i in range(40)], seed=0)
    assert sorted(sum(split.values(), [])) == list(range(40))


def test_homology_groups_join_shared_12mers():
    groups = homology_groups(["MKVLAAGHHWCCPL", "QQMKVLAAGHHWCCQ", "DDDDDDDDEEEEEE"], ["x", "y", "z"])
    assert groups[0] == groups[1] != groups[2]


def test_three_line_fasta_per_ion_merges_and_marks_unknown(tmp_path):
    zn, ca = tmp_path / "zn.fa", tmp_path / "ca.fa"
    zn.write_text(">p1\nMCPCK\n01010\n>p2\nAAHA\n0010\n")
    ca.write_text(">p1 desc\nMCPCK\n00000\n")
    assert read_label_fasta(zn, "ZN")["p2"] == ("AAHA", [0, 0, 1, 0])
    rows = {r["id"]: r for r in read_label_fastas({"ZN": zn, "CA": ca}, IONS)}
    assert rows["p1"]["labels_zn"] == [0, 1, 0, 1, 0] and rows["p1"]["labels_ca"] == [0] * 5
    assert rows["p2"]["labels_ca"] == [-100] * 4 and rows["p1"]["labels_mg"] == [-100] * 5
    bad = tmp_path / "bad.fa"
    bad.write_text(">p1\nMCPCK\n0101\n")
    with pytest.raises(ValueError, match="5 residues but 4 labels"):
        read_label_fasta(bad, "ZN")


def test_biolip_table(tmp_path):
    sequence = "MACDECGKH"
    row = ["1abc", "A", "1.8", "BS01", "ZN", "B", "1", "C3 C6 H9", "C3 C6 H9", "", "", "", "", "", "", "", "", "", "", sequence]
    other = row.copy()
    other[4], other[8] = "CA", "D4 E5"
    path = tmp_path / "biolip.txt"
    path.write_text("\t".join(row) + "\n" + "\t".join(other) + "\n")
    (protein,) = read_biolip(path, IONS)
    assert protein["id"] == "1abc_A"
    assert protein["labels_zn"] == [0, 0, 1, 0, 0, 1, 0, 0, 1]
    assert protein["labels_ca"] == [0, 0, 0, 1, 1, 0, 0, 0, 0] and protein["labels_mg"] == [0] * 9
    other[8] = "K4"
    path.write_text("\t".join(other) + "\n")
    with pytest.raises(ValueError, match="residue K4 but the sequence has D at 4"):
        read_biolip(path, IONS)


def test_regex_patterns_compile_with_coordinating_groups():
    for ion, pattern in PATTERNS:
        assert ion in IONS and re.compile(pattern).groups >= 2


def test_lookalikes_are_real_sites_that_only_the_homologs_reject(demo_rows):
    """A lookalike decoy is drawn exactly as a real site, carries no label, and its ligands are not kept by homologs."""
    lookalike_rows = [row for row in demo_rows if "lookalike:" in row["decoy_types"] and row["site_types"] == "none"]
    site_rows = [row for row in demo_rows if row["site_types"] != "none" and row["decoy_types"] == "none"]
    assert len(lookalike_rows) > 20 and len(site_rows) > 20
    for row in lookalike_rows:
        assert not any(1 in row[f"labels_{ion.lower()}"] for ion in IONS), row["id"]

    def regex_sites(sequence):
        return int(motif_scores(sequence, IONS).any(axis=1).sum())

    def kept_in_homologs(rows):
        """Mean share of a protein's regex-matched residues that its homologs still match (canonical rows only)."""
        kept = [min(regex_sites(h), regex_sites(r["sequence"])) / regex_sites(r["sequence"])
                for r in rows if regex_sites(r["sequence"]) and not set(r["site_types"].split(",")) & NON_CANONICAL
                for h in r["homologs"]]
        return float(np.mean(kept))

    real, lookalike = kept_in_homologs(site_rows), kept_in_homologs(lookalike_rows)
    assert real > 0.8 and lookalike < 0.5, (real, lookalike)
