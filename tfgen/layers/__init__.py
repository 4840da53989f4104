"""Keras layers shared by tfgen models."""

from tfgen.layers.conditioner import ConvConditioner, DenseConditioner
from tfgen.layers.masked_conv import MaskedConv2D, pixelcnn_mask

__all__ = ["ConvConditioner", "DenseConditioner", "MaskedConv2D", "pixelcnn_mask"]
