"""Model families. Importing this package registers every built-in family."""

from aekit.models.base import AEOutput, Autoencoder, LossOutput, per_sample_error, reconstruction_loss
from aekit.models import mlp  # noqa: F401  (registers "mlp")

__all__ = ["AEOutput", "Autoencoder", "LossOutput", "per_sample_error", "reconstruction_loss"]
