"""Training: one Lightning engine for every registered model family."""

from aekit.training.engine import FitResult, LitAutoencoder, OptimConfig, TrainerConfig, as_tensor, fit_model

__all__ = ["FitResult", "LitAutoencoder", "OptimConfig", "TrainerConfig", "as_tensor", "fit_model"]
