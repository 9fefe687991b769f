import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from modeling.mirlm.configuration_mirlm import MirLMConfig
from trainers.mirlm.callbacks import TemperatureAnnealingCallback


class _Model:
    def __init__(self):
        self.config = MirLMConfig(hidden_size=8, num_attention_heads=2)


def test_schedule_is_geometric_from_start_to_end():
    callback = TemperatureAnnealingCallback(0.2, 0.05)
    assert callback.temperature(0, 100) == pytest.approx(0.2)
    assert callback.temperature(50, 100) == pytest.approx(0.1)  # geometric mean of 0.2 and 0.05
    assert callback.temperature(100, 100) == pytest.approx(0.05)
    assert callback.temperature(500, 100) == pytest.approx(0.05)


def test_callback_sets_config_during_and_after_training(tmp_path):
    callback, model = TemperatureAnnealingCallback(0.2, 0.05), _Model()
    state, args, control = TrainerState(), TrainingArguments(output_dir=str(tmp_path)), TrainerControl()
    state.global_step, state.max_steps = 25, 100
    callback.on_step_begin(args, state, control, model=model)
    assert model.config.mil_temperature == pytest.approx(0.2 * 0.25**0.25)
    logs = {}
    callback.on_log(args, state, control, logs=logs, model=model)
    assert logs["mil_temperature"] == model.config.mil_temperature
    callback.on_train_end(args, state, control, model=model)
    assert model.config.mil_temperature == 0.05


def test_rejects_non_positive_temperatures():
    with pytest.raises(ValueError, match="positive"):
        TemperatureAnnealingCallback(0.2, 0.0)
