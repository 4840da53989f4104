"""Keras layers shared by tfgen models."""

from tfgen.layers.conditioner import ConvConditioner, DenseConditioner

__all__ = ["ConvConditioner", "DenseConditioner"]
