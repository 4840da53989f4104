"""Keras layers shared by tfgen models."""

from tfgen.layers.causal_conv import CausalConv1D
from tfgen.layers.conditioner import ConvConditioner, DenseConditioner
from tfgen.layers.masked_conv import MaskedConv2D, pixelcnn_mask
from tfgen.layers.pixel_rnn_layers import DiagonalBiLSTM, RowLSTM
from tfgen.layers.gated_unet import GatedPixelCNNUNet
from tfgen.layers.masked_mlp import MaskedMLP
from tfgen.layers.pixelcnn_stacks import GatedPixelCNNStack, PixelCNNStack
from tfgen.layers.residual_stack import ResidualStack
from tfgen.layers.reversible import ReversibleBlock, ReversibleSequence
from tfgen.layers.transformer_blocks import DecoderStack
from tfgen.layers.vector_quantizer import VectorQuantizer

__all__ = ["CausalConv1D", "ConvConditioner", "DecoderStack", "DenseConditioner", "DiagonalBiLSTM",
           "GatedPixelCNNStack", "GatedPixelCNNUNet", "MaskedConv2D", "MaskedMLP", "PixelCNNStack",
           "ResidualStack", "ReversibleBlock", "ReversibleSequence", "RowLSTM", "VectorQuantizer",
           "pixelcnn_mask"]
