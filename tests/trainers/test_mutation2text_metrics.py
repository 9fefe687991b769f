"""Mutation-fact extraction and scores, BLEU-2/4, METEOR, ROUGE-1/2/L, nearest-neighbour retrieval."""

import pytest

from trainers.mutation2text.baseline import NearestNeighbourRetrieval
from trainers.mutation2text.metrics import extract_facts, fact_scores, mutation2text_metrics, text_scores

REFERENCE = "K45A replaces a large positively charged lysine with a small hydrophobic alanine. Effect: destabilizing."


def test_extract_facts():
    assert extract_facts(REFERENCE) == {"wild_type": "K", "position": 45, "mutant": "A", "effect": "destabilizing"}
    assert extract_facts("p.Lys45Ala hits the zinc finger. effect: Loss of function")["effect"] == "loss of function"
    assert extract_facts("p.Lys45Ala")["mutant"] == "A"
    assert extract_facts("no facts here") == {"wild_type": None, "position": None, "mutant": None, "effect": None}


def test_fact_scores_count_each_fact():
    predictions = [REFERENCE, "K45G replaces ... Effect: destabilizing.", "K46A ... Effect: neutral.", "nothing"]
    scores = fact_scores(predictions, ["K45A"] * 4, ["destabilizing", "destabilizing", "destabilizing", ""])
    assert scores["wild_type_accuracy"] == 3 / 4 and scores["position_accuracy"] == 2 / 4
    assert scores["mutant_accuracy"] == 2 / 4
    assert scores["effect_accuracy"] == 2 / 3  # the row without a known effect is left out
    assert scores["fact_accuracy"] == 1 / 4


def test_text_scores():
    perfect = text_scores([REFERENCE], [REFERENCE])
    assert set(perfect) == {"bleu_2", "bleu_4", "meteor", "rouge_1", "rouge_2", "rouge_l"}
    assert all(perfect[k] == pytest.approx(1.0) for k in ("bleu_2", "bleu_4", "rouge_1", "rouge_2", "rouge_l"))
    worse = text_scores(["A completely different sentence."], [REFERENCE])
    assert worse["bleu_4"] < 0.1 and worse["rouge_l"] < 0.3
    # two words right, in order, of "Loss of kinase activity.": unigram and bigram matches but no 4-gram
    partial = text_scores(["Loss of binding."], ["Loss of kinase activity."])
    assert partial["bleu_2"] > partial["bleu_4"]
    assert partial["rouge_2"] == pytest.approx(0.4)  # bigrams: 1 of 2 predicted, 1 of 3 in the reference
    assert partial["rouge_1"] == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))  # 2 of 3 / 2 of 4 words
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        text_scores(["a", "b"], ["a"])
    metrics = mutation2text_metrics([REFERENCE, "x"], [REFERENCE, REFERENCE], ["K45A", "K45A"], ["destabilizing"] * 2)
    assert metrics["n"] == 2 and metrics["per_effect"]["destabilizing"]["n"] == 2 and metrics["fact_accuracy"] == 0.5


def test_retrieval_picks_the_most_identical_protein_and_nearest_position():
    train = {"wild_type": ["MKTAYIAKQRQISFVK", "MKTAYIAKQRQISFVK", "GGGGWWWWPPPP"],
             "mutation": ["K2A", "R10G", "W5A"], "answer": ["first", "second", "third"]}
    retrieval = NearestNeighbourRetrieval(train)
    assert retrieval.predict("MKTAYIAKQRQISFVR", "Q9A") == "second"
    assert retrieval.predict("GGGGWWWWPPPA", "G1A") == "third"
    assert retrieval.nearest_protein("GGGGWWWWPPPP") == "GGGGWWWWPPPP"  # the same protein: similarity 1
