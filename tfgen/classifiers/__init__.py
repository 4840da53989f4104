"""Discriminative models trained and served through the same contract (RevNet)."""

from tfgen.classifiers.revnet import RevNet

__all__ = ["RevNet"]
