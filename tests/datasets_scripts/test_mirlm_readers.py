import gzip

import pytest

from datasets_scripts.mirlm.readers import (
    detect_format,
    read_fasta,
    read_mirbench_tsv,
    read_mirformer_csv,
    read_table,
    read_targetnet_tsv,
)

LET7A_RNA = "UGAGGUAGUAGGUUGUAUAGUU"
MIR21_RNA = "UAGCUUAUCAGACUGAUGUUGA"
# 8mer of let-7 (CTACCTCA) at nt 10-17 of a 30-nt target
TARGET = "GGAAUUGGAACUACCUCAGGAAUUGGAAUU"


def write(path, text):
    path.write_text(text)
    return path


def mirbench(tmp_path, rows):
    header = "noncodingRNA\tgene\tnoncodingRNA_fam\tfeature\tlabel\tnoncodingRNA_name\n"
    return write(tmp_path / "AGO2_CLASH_test.tsv", header + "".join("\t".join(r) + "\n" for r in rows))


def test_mirbench_tsv(tmp_path):
    path = mirbench(tmp_path, [
        (LET7A_RNA, TARGET.lower(), "let-7", "three_prime_utr", "1", "hsa-let-7a-5p"),
        (MIR21_RNA, "ACGUNRACGU" * 5, "unknown", "intron", "0", "hsa-miR-21-5p"),
    ])
    columns = read_mirbench_tsv(path)
    assert columns["mrna"][0] == TARGET.replace("U", "T")
    assert columns["mrna"][1] == "ACGTNNACGT" * 5  # IUPAC R -> N
    assert columns["mirna"][0] == LET7A_RNA.replace("U", "T")
    assert columns["mirna_family"] == ["GAGGTAG", "AGCTTAT"]
    assert columns["label"] == [1, 0]
    assert columns["site_start"] == columns["site_end"] == [-1, -1]
    assert columns["site_type"] == ["unknown", "unknown"]
    assert columns["source_family"] == ["let-7", "unknown"]
    assert columns["mirna_name"] == ["hsa-let-7a-5p", "hsa-miR-21-5p"]
    assert detect_format(path) == "mirbench"


def test_mirbench_errors_name_file_line_and_column(tmp_path):
    path = mirbench(tmp_path, [(LET7A_RNA, TARGET, "let-7", "x", "1", "a"), (LET7A_RNA, TARGET, "let-7", "x", "yes", "b")])
    with pytest.raises(ValueError, match=r"AGO2_CLASH_test.tsv, line 3, column 'label': label must be 0 or 1"):
        read_mirbench_tsv(path)
    path = mirbench(tmp_path, [(LET7A_RNA, "ACGU#ACGU", "let-7", "x", "1", "a")])
    with pytest.raises(ValueError, match=r"line 2, column 'gene'.*'#' at position 4"):
        read_mirbench_tsv(path)
    path = mirbench(tmp_path, [(LET7A_RNA, "A" * 600, "let-7", "x", "1", "a")])
    with pytest.raises(ValueError, match=r"line 2, column 'gene': mRNA has 600 nt.*read_fasta"):
        read_mirbench_tsv(path)
    path = mirbench(tmp_path, [("UGAGG", TARGET, "let-7", "x", "1", "a")])
    with pytest.raises(ValueError, match=r"column 'noncodingRNA': miRNA has 5 nt"):
        read_mirbench_tsv(path)
    bad_header = write(tmp_path / "nolabel.tsv", "gene\tnoncodingRNA\n" + f"{TARGET}\t{LET7A_RNA}\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['label'\]"):
        read_mirbench_tsv(bad_header)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_mirformer_csv_seed_end_is_exclusive(tmp_path, sep):
    header = sep.join(["miRNA ID", "miRNA sequence", "mRNA sequence", "seed start", "seed end", "label"])
    lines = [
        header,
        sep.join(["hsa-let-7a-5p", LET7A_RNA, TARGET, "10", "18", "1"]),  # [10, 18) = the 8mer
        sep.join(["hsa-let-7a-5p", LET7A_RNA, TARGET, "20", "26", "1"]),  # no canonical site there
        sep.join(["hsa-miR-21-5p", MIR21_RNA, TARGET, "-1", "-1", "0"]),
    ]
    path = write(tmp_path / "mirformer.csv", "\n".join(lines) + "\n")
    assert detect_format(path) == "mirformer"
    columns = read_mirformer_csv(path)
    assert columns["site_start"] == [10, 20, -1]
    assert columns["site_end"] == [17, 25, -1]
    assert columns["site_type"] == ["8mer", "non-canonical", "unknown"]
    assert columns["mirna_name"][0] == "hsa-let-7a-5p"


def test_mirformer_csv_rejects_bad_sites(tmp_path):
    header = "miRNA sequence,mRNA sequence,seed start,seed end,label\n"
    path = write(tmp_path / "a.csv", header + f"{LET7A_RNA},{TARGET},25,40,1\n")
    with pytest.raises(ValueError, match=r"a.csv, line 2, column 'seed end': seed \[25, 40\)"):
        read_mirformer_csv(path)
    path = write(tmp_path / "b.csv", header + f"{LET7A_RNA},{TARGET},3,9,0\n")
    with pytest.raises(ValueError, match="negative .* has a seed site"):
        read_mirformer_csv(path)
    path = write(tmp_path / "c.csv", header + f"{LET7A_RNA},{TARGET},three,9,1\n")
    with pytest.raises(ValueError, match=r"column 'seed start': expected an integer"):
        read_mirformer_csv(path)


def test_targetnet_tsv(tmp_path):
    text = ("mirna_id\tmirna_seq\tmrna_id\tmrna_seq\tlabel\tsplit\n"
            f"hsa-let-7a-5p\t{LET7A_RNA}\tENST0001\t{TARGET}\t1\ttrain\n"
            f"hsa-miR-21-5p\t{MIR21_RNA}\tENST0002\t{TARGET}\t0\tval\n")
    path = write(tmp_path / "miRAW_Train.txt", text)
    assert detect_format(path) == "targetnet"
    columns = read_targetnet_tsv(path)
    assert columns["transcript_id"] == ["ENST0001", "ENST0002"]
    assert columns["mirna_name"] == ["hsa-let-7a-5p", "hsa-miR-21-5p"]
    assert columns["label"] == [1, 0]
    short = write(tmp_path / "short.txt", text + "hsa-miR-1\tUGGAAUGUAAAGAAGUAUGUAU\tENST3\n")
    with pytest.raises(ValueError, match=r"short.txt, line 4: expected at least 5"):
        read_targetnet_tsv(short)


def test_fasta_streams_records(tmp_path):
    path = tmp_path / "utrs.fa.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(">ENST1 some description\nacgu\nACGU\n\n>ENST2\n" + "A" * 1000 + "\n")
    records = read_fasta(path)
    assert next(records) == ("ENST1", "ACGTACGT")
    assert next(records) == ("ENST2", "A" * 1000)  # any length: scanning splits it into windows
    assert next(records, None) is None
    assert detect_format(path) == "fasta"
    bad = write(tmp_path / "bad.fa", "ACGT\n>x\nACGT\n")
    with pytest.raises(ValueError, match=r"bad.fa, line 1: sequence data before"):
        list(read_fasta(bad))
    bad = write(tmp_path / "bad2.fa", ">x\nAC!T\n")
    with pytest.raises(ValueError, match=r"record 'x'.*'!' at position 2"):
        list(read_fasta(bad))


def test_read_table_dispatch_and_unknown_formats(tmp_path):
    fasta = write(tmp_path / "x.txt", ">a\nACGT\n")
    with pytest.raises(ValueError, match="FASTA .* read_fasta"):
        read_table(fasta)
    other = write(tmp_path / "other.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="unrecognised header"):
        read_table(other)


# -- the published miRBench layouts (hand-written fixtures in tests/fixtures/mirlm) ------------------------------
FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "mirlm"


def test_mirbench_train_layout_reads_every_row_including_isomirs():
    """The 3-column train layout (no family column): 25-nt isomiRs are read, the family is the seed (nt 2-8)."""
    columns = read_table(FIXTURES / "mirbench_train.tsv")
    assert len(columns["mrna"]) == 20 and columns["line"] == list(range(2, 22))
    assert max(map(len, columns["mirna"])) == 25
    assert columns["mirna_family"][0] == "GAGGTAG" and columns["source_family"][0] == ""
    with pytest.raises(ValueError, match=r"mirbench_train.tsv, line 9, column 'noncodingRNA': miRNA has 25 nt; this mirLM takes 8-24 nt"):
        read_table(FIXTURES / "mirbench_train.tsv", max_mirna_nt=24)


def test_mirbench_test_layout_ignores_predictor_columns():
    columns = read_table(FIXTURES / "mirbench_test.tsv")
    assert len(columns["mrna"]) == 16 and sorted(set(columns["label"])) == [0, 1]
    assert max(map(len, columns["mirna"])) == 28


def test_bad_rows_are_errors_or_collected_when_asked():
    path = FIXTURES / "mirbench_bad_rows.tsv"
    with pytest.raises(ValueError, match=r"mirbench_bad_rows.tsv, line 4, column 'gene': mRNA: invalid character 'X' at position 20"):
        read_table(path)
    skipped = []
    columns = read_table(path, skipped=skipped)
    assert columns["line"] == [2, 3, 5, 7]
    assert [(bad.where.line, bad.where.column) for bad in skipped] == [(4, "gene"), (6, "noncodingRNA")]
    assert "invalid character 'X'" in skipped[0].reason and "miRNA has 35 nt" in skipped[1].reason


def test_a_labelled_file_without_its_label_column_is_an_error_naming_its_columns(tmp_path):
    path = write(tmp_path / "nolabel.tsv", "noncodingRNA\tgene\tscore\n" + f"{LET7A_RNA}\t{TARGET}\t0.5\n")
    with pytest.raises(ValueError, match=r"unrecognised header \['noncodingRNA', 'gene', 'score'\]"):
        read_table(path)
