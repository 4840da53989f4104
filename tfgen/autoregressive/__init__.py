"""Autoregressive models whose call returns a distribution over the input."""

from tfgen.autoregressive.made import MADE
from tfgen.autoregressive.pixelcnn import PixelCNN
from tfgen.autoregressive.wavenet import WaveNet

__all__ = ["MADE", "PixelCNN", "WaveNet"]
