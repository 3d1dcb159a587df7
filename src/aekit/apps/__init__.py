"""Applications: autoencoders put to work behind the scikit-learn contract.

Every estimator here derives from :class:`aekit.apps.base.AutoencoderEstimator` (one set of
training settings, one path into the engine, one saved-run format); :func:`load` rebuilds
whatever a run folder holds.
"""

from aekit.apps.base import load

__all__ = ["load"]
