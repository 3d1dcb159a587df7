"""Model families. Importing this package registers every built-in family."""

from aekit.models.base import AEOutput, Autoencoder, LossOutput, per_sample_error, reconstruction_loss
from aekit.models import mlp  # noqa: F401  (registers "mlp")
from aekit.models import conv  # noqa: F401  (registers "conv" and the conv presets)
from aekit.models import rbm  # noqa: F401  (registers "dbn")
from aekit.models import stacked  # noqa: F401  (registers "stacked")
from aekit.models import sparse, contractive, vae, linear  # noqa: F401  (sparse_l1, sparse_kl, ksparse, contractive, vae, conv_vae, linear)

__all__ = ["AEOutput", "Autoencoder", "LossOutput", "per_sample_error", "reconstruction_loss"]
