"""
The Hub side of biohf. `import hf_models` registers every family of `FAMILIES` with the Auto classes
(AutoConfig, AutoModel, AutoModelFor*, AutoTokenizer) and its pipeline task with `PIPELINE_REGISTRY`, so in this
process `AutoModel.from_pretrained(folder)` and `pipeline("mirna-target-scan", model=...)` need no
`trust_remote_code`. Without the package (e.g. from the Hub), the exported repository's remote code does the same.
"""

import transformers
from transformers import AutoConfig, AutoTokenizer
from transformers.pipelines import PIPELINE_REGISTRY

from .export import export_repository, export_untrained, remote_code_files, verify_repository
from .families import FAMILIES, Family, auto_map, custom_pipelines, family_of, get_family, make_tokenizer
from .presets import PRESETS, preset_config, preset_cost
from .push import PushError, push_repository


def _register(family: Family) -> None:
    model_type = family.config_class.model_type
    AutoConfig.register(model_type, family.config_class, exist_ok=True)
    for auto_name, model_class in family.model_classes.items():
        getattr(transformers, auto_name).register(family.config_class, model_class, exist_ok=True)
    AutoTokenizer.register(family.config_class, tokenizer_class=family.tokenizer_class, exist_ok=True)
    registered = PIPELINE_REGISTRY.supported_tasks.get(family.pipeline_task, {})
    if registered.get("impl") is not family.pipeline_class:
        PIPELINE_REGISTRY.register_pipeline(
            family.pipeline_task,
            pipeline_class=family.pipeline_class,
            pt_model=getattr(transformers, family.pipeline_pt_model),
        )


for _family in FAMILIES.values():
    _register(_family)

__all__ = [
    "FAMILIES", "Family", "PRESETS", "PushError", "auto_map", "custom_pipelines", "export_repository",
    "export_untrained", "family_of", "get_family", "make_tokenizer", "preset_config", "preset_cost",
    "push_repository", "remote_code_files", "verify_repository",
]
