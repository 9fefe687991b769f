"""
`Mutation2TextProcessor`: turns (wild type, mutation or mutant, question[, answer]) into model inputs.

It is the language model's tokenizer (a `tokenizers` backend: SmolLM2's byte-level BPE, Llama-3's, ... or, when
built from nothing, a 256-byte BPE with the same ChatML specials for tests) with `<delta_P>` added as a special
token, extended with the ESM-2 protein alphabet and the mutation logic. Being a tokenizer subclass, it loads
through `AutoTokenizer` and `AutoProcessor` (trust_remote_code) and serves as TRL's `processing_class`.

Per example, `encode_mutations` builds a chat:
    system: SYSTEM_PROMPT
    user:   "<delta_P>\nMutation K45A in a protein of 120 residues.\n<question>"
    assistant: <answer>                                  (training only)
applies the chat template, expands `<delta_P>` to `num_media_tokens` placeholder ids (LLaVA-style: the model
scatters the protein features into exactly those positions), and tokenizes wild type and mutant with the ESM-2
alphabet (`<cls> residues <eos>`). With answers, `labels` are -100 everywhere but on the answer and its
end-of-turn token, and batches are padded on the right; without, on the left (for generation).
"""

import json
import os

import torch
from transformers import BatchEncoding
# `tokenizers` (a dependency of transformers) through transformers: remote code imports only transformers/torch/numpy
from transformers.convert_slow_tokenizer import BPE, Tokenizer, decoders, pre_tokenizers
from transformers.tokenization_utils_tokenizers import TokenizersBackend

from .mutations_mutation2text import format_mutations, resolve_mutant

# ESM-2's alphabet, in its order (ids 0..32), so embeddings from any transformers ESM-2 checkpoint line up.
PROTEIN_VOCAB = ["<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q",
                 "N", "F", "Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>", "<mask>"]
PROTEIN_PAD_ID, PROTEIN_CLS_ID, PROTEIN_EOS_ID = 1, 0, 2

SYSTEM_PROMPT = "You describe protein mutations."
DEFAULT_QUESTION = "What is its effect?"
# ChatML, as SmolLM2-Instruct uses it; a wrapped tokenizer keeps its own template.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _byte_level_tokenizer() -> Tokenizer:
    """A BPE over the 256 byte symbols (no merges) after the ChatML specials: any text, a 259-token vocabulary."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: i for i, token in enumerate(CHATML_SPECIALS + sorted(alphabet))}
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=[], fuse_unk=False))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


class Mutation2TextProcessor(TokenizersBackend):
    """LLM tokenizer + `<delta_P>` + ESM-2 protein alphabet + mutation parsing; see the module docstring."""

    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, *args, num_media_tokens: int = 16, protein_max_length: int = 1022, delta_token: str = "<delta_P>",
                 **kwargs):
        if not args and not any(kwargs.get(k) is not None for k in ("tokenizer_object", "tokenizer_file", "gguf_file")):
            kwargs["tokenizer_object"] = _byte_level_tokenizer()
            kwargs.setdefault("unk_token", "<|endoftext|>")
            kwargs.setdefault("bos_token", "<|im_start|>")
            kwargs.setdefault("eos_token", "<|im_end|>")
            kwargs.setdefault("pad_token", "<|im_end|>")
            kwargs.setdefault("chat_template", CHATML_TEMPLATE)
        self.num_media_tokens = num_media_tokens
        self.protein_max_length = protein_max_length
        self.delta_token = delta_token
        super().__init__(*args, num_media_tokens=num_media_tokens, protein_max_length=protein_max_length,
                         delta_token=delta_token, **kwargs)
        if delta_token not in self.get_vocab():
            self.add_tokens([delta_token], special_tokens=True)
        if self.pad_token is None:
            self.pad_token = self.eos_token
        self.protein_vocab = {token: i for i, token in enumerate(PROTEIN_VOCAB)}

    @classmethod
    def convert_to_native_format(cls, trust_remote_code=False, **kwargs):
        # Always load the backend from tokenizer.json (this __init__ only adds arguments), with or without
        # trust_remote_code, instead of rebuilding it from extracted vocab/merges.
        return super().convert_to_native_format(trust_remote_code=True, **kwargs)

    @classmethod
    def from_text_tokenizer(cls, tokenizer, **kwargs) -> "Mutation2TextProcessor":
        """Wrap a language model's fast tokenizer (its backend, special tokens and chat template)."""
        specials = {name: getattr(tokenizer, name) for name in ("bos_token", "eos_token", "unk_token", "pad_token")
                    if getattr(tokenizer, name, None) is not None}
        template = getattr(tokenizer, "chat_template", None) or CHATML_TEMPLATE
        return cls(tokenizer_object=tokenizer.backend_tokenizer, chat_template=template, **specials, **kwargs)

    @property
    def delta_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.delta_token)

    def save_pretrained(self, save_directory, *args, **kwargs):
        files = super().save_pretrained(save_directory, *args, **kwargs)
        # Loaded through AutoTokenizer, the class registers itself and transformers then writes its auto_map as one
        # string (only names containing "Tokenizer" get the [slow, fast] pair AutoTokenizer reads): fix it up.
        path = os.path.join(save_directory, "tokenizer_config.json")
        with open(path) as handle:
            config = json.load(handle)
        reference = config.get("auto_map", {}).get("AutoTokenizer")
        if isinstance(reference, str):
            config["auto_map"]["AutoTokenizer"] = [reference, None]
            with open(path, "w") as handle:
                json.dump(config, handle, indent=2, sort_keys=True)
        return files

    # -- proteins --------------------------------------------------------------------------------------------
    def encode_protein(self, sequence: str) -> list:
        """ESM-2 ids of `<cls> sequence <eos>` (the sequence must already be checked: upper-case amino acids)."""
        if len(sequence) > self.protein_max_length:
            raise ValueError(f"protein of {len(sequence)} residues is longer than protein_max_length="
                             f"{self.protein_max_length}; split it into domains or raise the limit")
        return [PROTEIN_CLS_ID] + [self.protein_vocab[letter] for letter in sequence] + [PROTEIN_EOS_ID]

    # -- prompts ---------------------------------------------------------------------------------------------
    def build_messages(self, mutation_text: str, length: int, question=None, answer=None, include_protein=True) -> list:
        user = f"Mutation {mutation_text} in a protein of {length} residues.\n{question or DEFAULT_QUESTION}"
        if include_protein:
            user = f"{self.delta_token}\n{user}"
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
        if answer is not None:
            messages.append({"role": "assistant", "content": answer})
        return messages

    def _prompt_ids(self, mutation_text: str, length: int, question, include_protein: bool = True) -> list:
        messages = self.build_messages(mutation_text, length, question, include_protein=include_protein)
        text = self.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = self(text, add_special_tokens=False)["input_ids"]
        delta = self.delta_token_id
        if not include_protein:
            if delta in ids:
                raise ValueError(f"a text-only prompt must not hold {self.delta_token}")
            return ids
        if ids.count(delta) != 1:
            raise ValueError(f"the prompt must hold exactly one {self.delta_token}, found {ids.count(delta)} "
                             "(is it in the question?)")
        at = ids.index(delta)
        return ids[:at] + [delta] * self.num_media_tokens + ids[at + 1:]

    def encode_mutations(self, wild_type, mutation=None, mutant=None, question=None, answer=None,
                         return_tensors: str = "pt", with_protein_ids: bool = True,
                         include_protein: bool = True) -> BatchEncoding:
        """
        Model inputs for one example (strings) or a batch (lists): `input_ids`, `attention_mask`, `labels` (with
        answers), `wild_type_input_ids`, `mutant_input_ids`, `protein_attention_mask`. Give per example either a
        `mutation` ("K45A", "p.Lys45Ala", "K45A;R50G") or the `mutant` sequence; they are validated against the
        wild type. `with_protein_ids=False` leaves out the protein ids (for precomputed embeddings);
        `include_protein=False` builds the same chat without `<delta_P>` and without protein inputs (for a plain
        causal LM: the text-only baseline).
        """
        single = isinstance(wild_type, str)
        wild_types = [wild_type] if single else list(wild_type)
        n = len(wild_types)

        def per_example(value, name):
            values = [value] * n if value is None or isinstance(value, str) else list(value)
            if len(values) != n:
                raise ValueError(f"{name}: got {len(values)} values for {n} wild types")
            return values

        mutations, mutants = per_example(mutation, "mutation"), per_example(mutant, "mutant")
        questions, answers = per_example(question, "question"), per_example(answer, "answer")
        if any(a is None for a in answers) and any(a is not None for a in answers):
            raise ValueError("give an answer for every example (training) or for none (generation)")
        training = answers[0] is not None

        rows = []
        for i in range(n):
            try:
                wt, mt, substitutions = resolve_mutant(wild_types[i], mutations[i], mutants[i])
            except ValueError as error:
                raise ValueError(f"example {i}: {error}") from None
            ids = self._prompt_ids(format_mutations(substitutions), len(wt), questions[i], include_protein)
            labels = [-100] * len(ids)
            if training:
                answer_ids = self(answers[i] + self.eos_token, add_special_tokens=False)["input_ids"]
                ids, labels = ids + answer_ids, labels + answer_ids
            rows.append((ids, labels, self.encode_protein(wt), self.encode_protein(mt)))

        left = not training
        text_length = max(len(r[0]) for r in rows)
        protein_length = max(len(r[2]) for r in rows)

        def pad(values, length, fill):
            padding = [fill] * (length - len(values))
            return padding + values if left else values + padding

        batch = {
            "input_ids": [pad(r[0], text_length, self.pad_token_id) for r in rows],
            "attention_mask": [pad([1] * len(r[0]), text_length, 0) for r in rows],
        }
        if training:
            batch["labels"] = [pad(r[1], text_length, -100) for r in rows]
        if with_protein_ids and include_protein:
            # proteins are always right-padded (the encoder's positions start at <cls>)
            batch["wild_type_input_ids"] = [r[2] + [PROTEIN_PAD_ID] * (protein_length - len(r[2])) for r in rows]
            batch["mutant_input_ids"] = [r[3] + [PROTEIN_PAD_ID] * (protein_length - len(r[3])) for r in rows]
            batch["protein_attention_mask"] = [[1] * len(r[2]) + [0] * (protein_length - len(r[2])) for r in rows]
        if return_tensors == "pt":
            batch = {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}
        elif return_tensors is not None:
            raise ValueError(f"return_tensors must be 'pt' or None, got {return_tensors!r}")
        return BatchEncoding(batch)
