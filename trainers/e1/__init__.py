"""E1 training: Trainer subclass, LoRA, metrics (AUPRC / HRA / F1 / MCC), motif-regex baseline, plots, prediction."""
