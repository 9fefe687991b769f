"""The learning-curve table and plot read finished runs' metrics.json."""

import json

import pytest

from trainers.mutation2text.learning_curve import load_runs, main, markdown_table


def _run(folder, n, rouge):
    folder.mkdir()
    scores = {"bleu_2": 0.2, "bleu_4": 0.1, "meteor": None, "rouge_1": 0.3, "rouge_2": 0.1, "rouge_l": rouge}
    (folder / "metrics.json").write_text(json.dumps({"num_train_examples": n, "num_test_examples": 7, "model": scores,
                                                     "baseline": {**scores, "rouge_l": rouge / 2}, "retrieval": scores}))
    return folder


def test_table_and_plot(tmp_path, capsys):
    big, small = _run(tmp_path / "b", 50, 0.4), _run(tmp_path / "a", 25, 0.2)
    runs = load_runs([big, small])
    assert [n for n, _ in runs] == [25, 50]
    table = markdown_table(runs)
    assert "| ROUGE-L | mutation2text | 0.200 | 0.400 |" in table and "| ROUGE-L | text-only LLM | 0.100 | 0.200 |" in table
    assert "| METEOR | retrieval | — | — |" in table
    main([str(small), str(big), "--plot", str(tmp_path / "curve.png")])
    assert (tmp_path / "curve.png").stat().st_size > 1000 and "25 rows | 50 rows" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        load_runs([tmp_path])
