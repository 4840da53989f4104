"""Autoregressive models whose call returns a distribution over the input."""

from tfgen.autoregressive.made import MADE
from tfgen.autoregressive.pixelcnn import PixelCNN

__all__ = ["MADE", "PixelCNN"]
