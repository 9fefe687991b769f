"""Model cards: metadata and model-index from the run's metrics, model vs baseline kept apart, YAML round trip."""

import pytest
from huggingface_hub import ModelCard

from hf_models import FAMILIES, make_tokenizer, preset_config
from model_cards import render_model_card


def _metrics(family, shift: float) -> dict:
    """A metrics dict of the family with distinct values per key (model and baseline differ by `shift`)."""
    values = {key: round(0.5 + 0.05 * i + shift, 4) for i, key in enumerate(family.metric_names)}
    return {**values, "n": 321, "per_site_type": {"8mer": {**values, "n": 40}, "none": {"accuracy": 0.6 + shift, "n": 50}}}


def _context(family, **extra) -> dict:
    config = preset_config(family.name, "tiny")
    return {
        "model_id": f"biohf/{family.name}-unit",
        "config": config.to_dict(),
        "parameters": 1234,
        "vocab": sorted(make_tokenizer(family, config).get_vocab().items(), key=lambda item: item[1]),
        **extra,
    }


@pytest.fixture(params=sorted(FAMILIES))
def family(request):
    return FAMILIES[request.param]


def test_card_metadata_and_eval_results(family):
    model, baseline = _metrics(family, 0.0), _metrics(family, -0.2)
    context = _context(family, metrics={"split": "test", "model": model, "baseline": baseline},
                       dataset="biohf/unit-data", base_model="biohf/base", plots={"ROC": "plots/roc.png"},
                       training_summary={"epochs": 2})
    card = ModelCard(str(render_model_card(family, context)))  # parse the rendered text back

    data = card.data
    assert data.license == family.license == "apache-2.0"
    assert data.pipeline_tag == family.pipeline_tag
    assert "custom_code" in data.tags and set(family.tags) <= set(data.tags)
    assert data.datasets == ["biohf/unit-data"] and data.base_model == "biohf/base"
    assert data.model_name == "biohf/" + f"{family.name}-unit"

    results = data.eval_results
    ours = {r.metric_type: r for r in results if r.metric_config is None}
    theirs = {r.metric_type: r for r in results if r.metric_config == "baseline"}
    assert len(ours) + len(theirs) == len(results) == 2 * len(family.metric_names)
    for key, display in family.metric_names.items():
        assert ours[key].metric_value == model[key] and ours[key].metric_name == f"{display} ({family.name}-unit)"
        assert theirs[key].metric_value == baseline[key]
        assert theirs[key].metric_name == f"{display} ({family.baseline_name})"
    assert {r.dataset_split for r in results} == {"test"} and {r.dataset_name for r in results} == {"biohf/unit-data"}

    text = card.text
    first = next(iter(family.metric_names))
    assert f"| {family.metric_names[first]} | {model[first]:.3f} | {baseline[first]:.3f} |" in text
    assert "![ROC](plots/roc.png)" in text
    assert "trust_remote_code=True" in text and "biohf/" + f"{family.name}-unit" in text
    assert "Untrained" not in text


def test_a_dataset_description_is_not_listed_as_a_hub_dataset(family):
    context = _context(family, metrics={"model": _metrics(family, 0.0)}, dataset="embedded generator (size=demo, seed=0)")
    data = ModelCard(str(render_model_card(family, context))).data
    assert data.datasets is None
    assert {r.dataset_name for r in data.eval_results} == {"embedded generator (size=demo, seed=0)"}
    assert {r.dataset_type for r in data.eval_results} == {"embedded-generator-size-demo-seed-0"}


def test_round_trip(family, tmp_path):
    context = _context(family, metrics={"split": "test", "model": _metrics(family, 0.0)}, dataset="unit-data")
    card = render_model_card(family, context)
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    assert loaded.content == card.content
    assert loaded.data.to_dict() == card.data.to_dict()
    assert [r.metric_value for r in loaded.data.eval_results] == [r.metric_value for r in card.data.eval_results]


def test_untrained_card_has_no_results(family):
    card = ModelCard(str(render_model_card(family, _context(family, untrained=True, preset="tiny",
                                                            metrics={"model": _metrics(family, 0.0)}, dataset="x"))))
    assert card.data.eval_results is None
    assert "Untrained" in card.text and "No evaluation results." in card.text


def test_context_must_name_the_model(family):
    with pytest.raises(KeyError, match="model_id"):
        render_model_card(family, {"config": {}})


def test_mirlm_card_vocabulary_masks_and_site_types():
    family = FAMILIES["mirlm"]
    metrics = {"split": "test", "model": _metrics(family, 0.0), "baseline": _metrics(family, -0.2)}
    text = render_model_card(family, _context(family, metrics=metrics, dataset="unit-data")).text
    assert "Here it is\n**7**" in text  # the [MRNA_CLS] id, from the config
    assert "| token | [CLS] | [SEP] | [BOS] | [MASK] | [PAD] | [RESERVED] | [UNK] | [MRNA_CLS] | A |" in text
    assert "| id | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 |" in text
    assert "`global_attention_mask - (1 - attention_mask)`" in text
    assert "| 8mer | 40 | 0.600 / 0.400 |" in text  # accuracy model / baseline per site type
    assert "| none | 50 | 0.600 / 0.400 |" in text


def test_card_links_only_to_what_exists_on_the_hub(family):
    """Links are web addresses or files the repository holds (its plots); no path into this source tree or elsewhere."""
    import re

    plots = {"ROC": "plots/roc.png"}
    text = str(render_model_card(family, _context(family, plots=plots, metrics={"split": "test", "model": _metrics(family, 0.0),
                                                                                "baseline": _metrics(family, -0.2)})))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        assert target.startswith("https://") or target in plots.values(), target
    assert not re.findall(r"[\w.-]+/[\w./-]+\.(?:md|j2|py)\b", text)  # a file path: not in a Hub repository
