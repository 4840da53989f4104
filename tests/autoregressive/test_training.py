"""A few hundred steps on real Fashion-MNIST bring bits/dim far below 8."""

from tfgen._keras import keras
from tfgen.autoregressive import PixelCNN
from tfgen.data import fashion_mnist
from tfgen.training import default_optimizer


def test_gated_pixelcnn_learns_fashion_mnist(fmnist_available):
  keras.utils.set_random_seed(0)
  model = PixelCNN((28, 28, 1), filters=32, num_layers=5, gated=True)
  model.compile(default_optimizer(1e-3))
  train = fashion_mnist("train", batch_size=32, repeat=True, seed=0)
  test = fashion_mnist("test", batch_size=500, take=1000)
  before = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  model.fit(train, steps_per_epoch=200, epochs=1, verbose=0)
  after = model.evaluate(test, verbose=0, return_dict=True)
  print("pixelcnn test bits/dim", before, "->", after)
  assert before > 7.5
  assert after["bits_per_dim"] < 4.5, after
