"""Training callbacks of mirLM."""

from transformers import TrainerCallback


class TemperatureAnnealingCallback(TrainerCallback):
    """
    Anneals the MIL temperature tau geometrically from `start` to `end` over the run (seed: 0.2 -> 0.05), so
    the log-sum-exp pooling starts smooth and ends peaked on the seed site. tau is a function of the global
    step only, so a resumed run continues the same schedule; the final value stays in `config.mil_temperature`
    and is what inference uses.
    """

    def __init__(self, start: float = 0.2, end: float = 0.05):
        if start <= 0 or end <= 0:
            raise ValueError(f"temperatures must be positive, got start={start}, end={end}")
        self.start, self.end = start, end

    def temperature(self, step: int, max_steps: int) -> float:
        progress = min(step / max(max_steps, 1), 1.0)
        return self.start * (self.end / self.start) ** progress

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        model.config.mil_temperature = self.temperature(state.global_step, state.max_steps)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        model.config.mil_temperature = self.end

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        if logs is not None and model is not None:
            logs["mil_temperature"] = model.config.mil_temperature
