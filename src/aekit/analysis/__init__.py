"""Analyses of trained models (e.g. comparing a linear autoencoder with PCA)."""

from aekit.analysis.pca import PCAComparison, compare_with_pca, principal_angles

__all__ = ["PCAComparison", "compare_with_pca", "principal_angles"]
