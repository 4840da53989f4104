"""Keras layers shared by tfgen models."""

from tfgen.layers.conditioner import ConvConditioner, DenseConditioner
from tfgen.layers.masked_conv import MaskedConv2D, pixelcnn_mask
from tfgen.layers.pixelcnn_stacks import GatedPixelCNNStack, PixelCNNStack

__all__ = ["ConvConditioner", "DenseConditioner", "GatedPixelCNNStack", "MaskedConv2D",
           "PixelCNNStack", "pixelcnn_mask"]
