"""
Text metrics and mutation-fact accuracy.

Facts of a generated description, compared with the reference mutation and effect class:
    wild_type / position / mutant   the first substitution written in the text ("K45A" or "p.Lys45Ala")
    effect                          the class after "Effect:" (`EFFECTS`); rows without a known effect are left out
fact_accuracy is the share of rows with all four right (rows without a known effect: the three residue facts).

Text metrics, those MutaPLM reports for mutation explanation: BLEU-2 and BLEU-4 (sacrebleu's corpus BLEU with
n-grams up to 2 / 4, its 13a tokenizer, / 100), METEOR (nltk's, with WordNet read offline: `meteor`; None where
WordNet is not installed), ROUGE-1 / ROUGE-2 / ROUGE-L (rouge-score, mean F1, no stemmer). MutaPLM computes BLEU
with nltk's corpus_bleu on whitespace tokens (punctuation stays attached to words), so its BLEU differs in
tokenization; the ROUGE and METEOR settings are the same.
"""

import re

from datasets_scripts.mutation2text.properties import EFFECTS
from modeling.mutation2text.mutations_mutation2text import THREE_TO_ONE

from .meteor import meteor

_SUBSTITUTION = re.compile(r"\b(?:p\.)?([A-Z][a-z]{2}|[ACDEFGHIKLMNPQRSTVWY])(\d+)([A-Z][a-z]{2}|[ACDEFGHIKLMNPQRSTVWY])\b")
_EFFECT = re.compile(r"Effect:\s*(" + "|".join(EFFECTS) + ")", re.IGNORECASE)


def _one_letter(code: str):
    return code if len(code) == 1 else THREE_TO_ONE.get(code.upper())


def extract_facts(text: str) -> dict:
    """{"wild_type", "position", "mutant", "effect"} read from a description (None where absent)."""
    facts = {"wild_type": None, "position": None, "mutant": None, "effect": None}
    match = _SUBSTITUTION.search(text or "")
    if match:
        facts.update(wild_type=_one_letter(match.group(1)), position=int(match.group(2)), mutant=_one_letter(match.group(3)))
    effect = _EFFECT.search(text or "")
    if effect:
        facts["effect"] = effect.group(1).lower()
    return facts


def fact_scores(predictions: list, mutations: list, effects: list) -> dict:
    """Per-fact accuracies and the all-facts accuracy of `predictions` against the reference mutations / effects."""
    counts = {"wild_type": 0, "position": 0, "mutant": 0, "effect": 0, "all": 0}
    with_effect = 0
    for text, mutation, effect in zip(predictions, mutations, effects, strict=True):
        facts = extract_facts(text)
        first = extract_facts(mutation)  # the reference's first substitution
        right = {name: facts[name] == first[name] for name in ("wild_type", "position", "mutant")}
        if effect:
            with_effect += 1
            right["effect"] = facts["effect"] == effect
            counts["effect"] += right["effect"]
        for name in ("wild_type", "position", "mutant"):
            counts[name] += right[name]
        counts["all"] += all(right.values())
    n = len(predictions)
    return {
        "fact_accuracy": counts["all"] / n if n else 0.0,
        "wild_type_accuracy": counts["wild_type"] / n if n else 0.0,
        "position_accuracy": counts["position"] / n if n else 0.0,
        "mutant_accuracy": counts["mutant"] / n if n else 0.0,
        "effect_accuracy": counts["effect"] / with_effect if with_effect else None,
    }


TEXT_METRICS = ("bleu_2", "bleu_4", "meteor", "rouge_1", "rouge_2", "rouge_l")


def text_scores(predictions: list, references: list) -> dict:
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU

    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    scores = {f"bleu_{n}": BLEU(max_ngram_order=n).corpus_score(predictions, [references]).score / 100 for n in (2, 4)}
    scores["meteor"] = meteor(predictions, references)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    rouge = [scorer.score(ref, pred) for pred, ref in zip(predictions, references)]
    for name, key in (("rouge_1", "rouge1"), ("rouge_2", "rouge2"), ("rouge_l", "rougeL")):
        scores[name] = sum(r[key].fmeasure for r in rouge) / len(rouge) if rouge else 0.0
    return scores


def mutation2text_metrics(predictions: list, references: list, mutations: list, effects: list) -> dict:
    metrics = {**fact_scores(predictions, mutations, effects), **text_scores(predictions, references),
               "n": len(predictions)}
    per_effect = {}
    for effect in EFFECTS:
        rows = [i for i, e in enumerate(effects) if e == effect]
        if rows:
            per_effect[effect] = {"n": len(rows), **fact_scores([predictions[i] for i in rows],
                                                                [mutations[i] for i in rows], [effect] * len(rows))}
    metrics["per_effect"] = per_effect
    return metrics
