"""Adapter pre-training: class tokens and labels, held-out proteins kept out, in-memory states, learning, resume."""

from types import SimpleNamespace

import pytest
import torch
from datasets import DatasetDict
from safetensors.torch import load_file
from transformers import TrainingArguments

from datasets_scripts.mutation2text import build_mutation2text_dataset
from datasets_scripts.mutation2text.properties import EFFECTS
from trainers.mutation2text.build import adapter_state, build_model
from trainers.mutation2text.pretraining import (
    ADAPTERS_FILE, AdapterPretrainingCollator, EncodedProteins, Mutation2TextAdapterPretrainingModel, _labelled,
    class_token_ids, effect_labels, pretrain_adapters, pretraining_data, probe_accuracy,
)


def _args(**changes):
    values = dict(data=None, train_file=None, pretrain_data_size="tiny", dataset_seed=0, pretrain_epochs=1.0, pretrain_learning_rate=3e-3,
                  pretrain_batch_size=8, resume=True)
    return SimpleNamespace(**{**values, **changes})


def _training_args(folder):
    return TrainingArguments(output_dir=str(folder), report_to="none", disable_tqdm=True, use_cpu=True, seed=0,
                             save_strategy="steps", save_total_limit=1, dataloader_pin_memory=False)


def test_class_tokens_differ_and_labels_follow_the_metric_parser():
    _, processor = build_model("tiny", "random")
    ids = class_token_ids(processor)
    assert len(set(ids)) == len(EFFECTS)  # byte-level: the letters after the shared space
    assert ids[0] == processor("l", add_special_tokens=False)["input_ids"][0]
    answers = ["K2A ... Effect: loss of function.", "no class here", "x. Effect: Neutral.", "Effect: impaired secretion."]
    assert effect_labels(answers) == [0, -1, 3, 1]


def test_pretraining_data_keeps_held_out_proteins_out():
    splits = build_mutation2text_dataset(size="tiny")
    extra = build_mutation2text_dataset(size="tiny", seed=1)["train"]  # the pre-training generator's proteins
    held_out = extra.select(range(8))  # pretend two of them were held-out proteins
    shuffled = DatasetDict(train=splits["train"], validation=held_out, test=splits["test"])
    data = pretraining_data(shuffled, _args())
    forbidden = set(held_out["wild_type"])
    kept_extra = sum(w not in forbidden for w in extra["wild_type"])
    assert len(data) == len(splits["train"]) + kept_extra and kept_extra < len(extra)
    assert not forbidden & set(data["wild_type"]) and min(data["labels"]) >= 0
    assert len(pretraining_data(splits, _args(data="user.jsonl"))) == len(splits["train"])  # real data: train only
    assert len(pretraining_data(splits, _args(train_file="train.csv"))) == len(splits["train"])


def test_in_memory_states_equal_the_encoder():
    torch.manual_seed(0)
    model, processor = build_model("tiny", "random")
    rows = _labelled(build_mutation2text_dataset(size="tiny")["validation"])
    batch_rows = [rows[i] for i in range(4)]
    proteins = EncodedProteins(model, processor, list(rows["wild_type"]) + list(rows["mutant"]))
    looked_up = AdapterPretrainingCollator(processor, proteins)(batch_rows)
    from_ids = AdapterPretrainingCollator(processor)(batch_rows)
    with torch.no_grad():
        expected = model.model.encode_protein(from_ids["mutant_input_ids"], from_ids["protein_attention_mask"])
    mask = from_ids["protein_attention_mask"].bool()
    torch.testing.assert_close(looked_up["mutant_embeds"][mask], expected[mask], atol=2e-3, rtol=2e-3)  # float16
    assert torch.equal(looked_up["protein_attention_mask"], from_ids["protein_attention_mask"])
    assert torch.equal(looked_up["labels"], torch.tensor([r["labels"] for r in batch_rows]))


def test_the_adapters_learn_the_class_and_a_rerun_loads_them(tmp_path):
    torch.manual_seed(0)
    model, processor = build_model("tiny", "random")
    splits = build_mutation2text_dataset(size="tiny")
    args = _args(pretrain_data_size=None, pretrain_epochs=60.0, pretrain_learning_rate=1e-2, pretrain_batch_size=24)
    # the 24 training mutations only (one batch): memorise them
    embeddings = model.get_input_embeddings().weight.detach()
    head = Mutation2TextAdapterPretrainingModel(model, embeddings[class_token_ids(processor)])
    train = _labelled(splits["train"])
    before = probe_accuracy(head, train, AdapterPretrainingCollator(processor))["effect_accuracy"]
    report, history = pretrain_adapters(model, processor, splits, args, _training_args(tmp_path / "run"), tmp_path)
    after = probe_accuracy(head, train, AdapterPretrainingCollator(processor))["effect_accuracy"]
    assert after >= 0.9 and after > before, (before, after)
    assert history and report["n_train"] == len(train) and set(report) >= {"validation", "test"}
    # the LLM was not touched; the adapters were
    saved = load_file(tmp_path / "adapter-pretraining" / ADAPTERS_FILE)
    assert set(saved) == set(adapter_state(model)) and any(k.startswith("model.site_context.") for k in saved)
    fresh, _ = build_model("tiny", "random")
    assert not torch.equal(fresh.state_dict()["model.projector.linear_1.weight"], saved["model.projector.linear_1.weight"])
    again, history = pretrain_adapters(fresh, processor, splits, args, _training_args(tmp_path / "run"), tmp_path)
    assert again == report and history == []
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in saved.items())


def test_nothing_to_learn_without_classes(tmp_path):
    model, processor = build_model("tiny", "random")
    splits = build_mutation2text_dataset(size="tiny")
    no_class = splits["train"].map(lambda row: {"answer": row["answer"].split("Effect:")[0]})
    report, history = pretrain_adapters(model, processor, DatasetDict(dict(splits, train=no_class)),
                                        _args(data="user.jsonl"), _training_args(tmp_path / "run"), tmp_path)
    assert report is None and history == []


@pytest.mark.parametrize("classes", [("loss", "loss")])
def test_class_tokens_must_differ(classes):
    _, processor = build_model("tiny", "random")
    with pytest.raises(ValueError, match="no position where all their tokens differ"):
        class_token_ids(processor, classes)


def test_stage1_keeps_the_class_loss_on(tmp_path):
    from datasets_scripts.mutation2text import Mutation2TextDataCollator
    from trainers.mutation2text.pretraining import WithEffectLabels, class_head
    from trainers.mutation2text.trainer import Mutation2TextStage1Trainer

    torch.manual_seed(0)
    model, processor = build_model("tiny", "random")
    rows = [build_mutation2text_dataset(size="tiny")["train"][i] for i in range(3)]
    rows[1] = dict(rows[1], answer=rows[1]["answer"].split("Effect:")[0])  # a row without a class is left out
    batch = WithEffectLabels(Mutation2TextDataCollator(processor))(rows)
    assert batch["effect_labels"][1] == -1 and batch["effect_labels"][0] == EFFECTS.index(rows[0]["effect"])
    head = class_head(model, processor)
    trainer = Mutation2TextStage1Trainer(model=model, args=_training_args(tmp_path), class_head=head, class_loss_weight=0.5)
    model.eval()
    with torch.no_grad():
        total = trainer.compute_loss(model, dict(batch))
        outputs = model(**{k: v for k, v in batch.items() if k != "effect_labels"})
        keep = batch["effect_labels"] >= 0
        expected = outputs.loss + 0.5 * head.class_loss(outputs.protein_hidden_states[keep], batch["effect_labels"][keep])
    torch.testing.assert_close(total, expected)
    assert float(total) > float(outputs.loss)


def test_an_interrupted_pretraining_resumes_from_its_checkpoint(tmp_path):
    splits = build_mutation2text_dataset(size="tiny")
    args = _args(pretrain_data_size=None, pretrain_epochs=2.0)
    training_args = TrainingArguments(output_dir=str(tmp_path / "run"), report_to="none", disable_tqdm=True, use_cpu=True,
                                      seed=0, save_strategy="steps", save_steps=2, dataloader_pin_memory=False)
    torch.manual_seed(0)
    model, processor = build_model("tiny", "random")
    pretrain_adapters(model, processor, splits, args, training_args, tmp_path)
    folder = tmp_path / "adapter-pretraining"
    finished = load_file(folder / ADAPTERS_FILE)
    (folder / ADAPTERS_FILE).unlink()  # as if stopped after the last checkpoint, before the adapters were written
    assert sorted(p.name for p in folder.glob("checkpoint-*"))
    torch.manual_seed(1)
    fresh, _ = build_model("tiny", "random")
    _, history = pretrain_adapters(fresh, processor, splits, args, training_args, tmp_path)
    resumed = load_file(folder / ADAPTERS_FILE)
    assert history and all(torch.equal(resumed[k], v) for k, v in finished.items())
