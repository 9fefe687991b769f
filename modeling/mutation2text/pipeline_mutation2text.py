"""
`mutation-to-text`: describe a protein mutation in words.

    describe = pipeline(model="org/mutation2text-demo", trust_remote_code=True)
    describe(wild_type="MKT...", mutation="K45A", question="What does this do?")      # -> dict
    describe(wild_type="MKT...", mutant="MAT...")                                       # mutant sequence instead
    describe([{"wild_type": ..., "mutation": "p.Lys45Ala;R50G"}, ...])                 # -> list of dicts

Output per example: {"generated_text": the description, "mutation": the validated substitutions ("K45A;R50G")}.
Decoding is greedy by default (`max_new_tokens=96`); other `generate` arguments pass through
(`num_beams`, `do_sample`, `temperature`, ...).
"""

from transformers import Pipeline

from .mutations_mutation2text import format_mutations, resolve_mutant

FIELDS = ("wild_type", "mutation", "mutant", "question")
DEFAULT_MAX_NEW_TOKENS = 96


class Mutation2TextPipeline(Pipeline):
    """Wild type + mutation (or mutant sequence) [+ question] -> generated description."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __call__(self, inputs=None, **kwargs):
        given = {name: kwargs.pop(name) for name in FIELDS if name in kwargs}
        if inputs is None:
            if "wild_type" not in given:
                raise ValueError("give wild_type= and mutation= (or mutant=), or a dict / list of dicts of them")
            inputs = given
        elif given:
            raise ValueError(f"give either inputs or {', '.join(given)}=, not both")
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(self, **generate_kwargs):
        # only what was given: call-time arguments update those given at construction
        return {}, dict(generate_kwargs), {}

    def preprocess(self, example):
        if not isinstance(example, dict) or "wild_type" not in example:
            raise ValueError(f"each input must be a dict with wild_type and mutation or mutant, got {example!r}")
        unknown = set(example) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown input fields {sorted(unknown)}; expected {FIELDS}")
        _, _, substitutions = resolve_mutant(example["wild_type"], example.get("mutation"), example.get("mutant"))
        encoding = self.tokenizer.encode_mutations(example["wild_type"], mutation=format_mutations(substitutions),
                                                   question=example.get("question"))
        return {**encoding, "mutation": format_mutations(substitutions)}

    def _forward(self, model_inputs, **generate_kwargs):
        mutation = model_inputs.pop("mutation")
        prompt_length = model_inputs["input_ids"].shape[1]
        generate_kwargs = {"max_new_tokens": DEFAULT_MAX_NEW_TOKENS, "do_sample": False, **generate_kwargs}
        generated = self.model.generate(**model_inputs, **generate_kwargs)
        return {"tokens": generated[:, prompt_length:], "mutation": mutation}

    def postprocess(self, outputs):
        text = self.tokenizer.decode(outputs["tokens"][0], skip_special_tokens=True)
        return {"generated_text": text.strip(), "mutation": outputs["mutation"]}
