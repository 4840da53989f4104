"""Every public tfgen layer round-trips its config, as Keras's own layer tests
check: ``from_config(get_config())`` rebuilds the same layer, and with the
same weights it computes the same output."""

import numpy as np
import pytest
import tensorflow as tf

import tfgen.layers
from tfgen._keras import keras
from tfgen.layers import (CausalConv1D, ConvConditioner, DecoderStack, DenseConditioner,
                          DiagonalBiLSTM, GatedPixelCNNStack, GatedPixelCNNUNet, MaskedConv2D,
                          MaskedMLP, PixelCNNStack, ResidualStack, ReversibleBlock,
                          ReversibleSequence, RowLSTM, VectorQuantizer)
from tfgen.layers.channel_matmul import ChannelDense

IMAGE = tf.random.stateless_normal([2, 4, 4, 2], seed=[1, 2])
FEATURES = tf.random.stateless_normal([2, 4, 4, 4], seed=[3, 4])   # PixelRNN layers: units wide


def _conv(name):
  return keras.layers.Conv2D(1, 3, padding="same", name=name)


#: layer → an input it takes (the call's first argument).
LAYERS = {
    "CausalConv1D": (lambda: CausalConv1D(4, 2, dilation_rate=2), tf.ones([2, 7, 3])),
    "ChannelDense": (lambda: ChannelDense(3), IMAGE),
    "ConvConditioner": (lambda: ConvConditioner(4, hidden_channels=6), IMAGE),
    "DenseConditioner": (lambda: DenseConditioner(4, hidden_units=6, num_hidden_layers=1),
                         tf.ones([2, 5])),
    "DecoderStack": (lambda: DecoderStack(1, 8, 2, attention="strided", block_size=2),
                     tf.ones([2, 6, 8])),
    "DiagonalBiLSTM": (lambda: DiagonalBiLSTM(4, data_channels=2), FEATURES),
    "RowLSTM": (lambda: RowLSTM(4, data_channels=2), FEATURES),
    "GatedPixelCNNStack": (lambda: GatedPixelCNNStack(2, 6, 2, kernel_size=3), IMAGE),
    "GatedPixelCNNUNet": (lambda: GatedPixelCNNUNet(2, 6, 1, downsample=1), IMAGE),
    "PixelCNNStack": (lambda: PixelCNNStack(2, 4, 2, condition_size=None), IMAGE),
    "MaskedConv2D": (lambda: MaskedConv2D(4, 3, "A", 2), IMAGE),
    "MaskedMLP": (lambda: MaskedMLP(5, [6], num_masks=2), tf.ones([2, 5])),
    "ResidualStack": (lambda: ResidualStack(2, 3, 1), IMAGE),
    "ReversibleBlock": (lambda: ReversibleBlock(_conv("f"), _conv("g")), IMAGE),
    "ReversibleSequence": (lambda: ReversibleSequence(
        [ReversibleBlock(_conv("f"), _conv("g"), name="b0")], memory_saving=False), IMAGE),
    "VectorQuantizer": (lambda: VectorQuantizer(num_codes=4, code_dim=2), IMAGE),
}


def test_every_public_layer_is_checked():
  public = {n for n in tfgen.layers.__all__ if isinstance(getattr(tfgen.layers, n), type)}
  assert public <= set(LAYERS)


def _first(out):
  return tf.nest.flatten(out)[0]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_config_round_trip_rebuilds_the_same_layer(name):
  make, x = LAYERS[name]
  layer = make()
  y = layer(x)
  config = layer.get_config()
  clone = type(layer).from_config(config)
  clone(x)                                        # build, then take the weights
  assert clone.get_config() == config
  clone.set_weights(layer.get_weights())
  np.testing.assert_allclose(_first(clone(x)).numpy(), _first(y).numpy(), rtol=1e-5,
                             atol=1e-6)
