"""Model-card templates per family (`<family>.md.j2`) and their renderer."""

from .render import render_model_card

__all__ = ["render_model_card"]
