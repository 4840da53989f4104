"""Moving Fashion-MNIST: fixed per split, moving, bouncing inside the frame."""

import numpy as np

from tfgen import data


def _first(name, split, n=8):
  return next(iter(data.load(name, split, n, take=n))).numpy()


def test_videos_are_fixed_per_split_and_differ_between_splits():
  a, b = _first("moving_fashion_mnist_small", "test"), _first("moving_fashion_mnist_small", "test")
  np.testing.assert_array_equal(a, b)
  assert a.shape == (8, 10, 32, 32, 1) and a.dtype == np.uint8
  assert np.any(a != _first("moving_fashion_mnist_small", "train"))


def test_items_move_and_stay_in_the_frame():
  v = _first("moving_fashion_mnist", "test", 4)
  assert v.shape == (4, 20, 64, 64, 1)
  for video in v:
    mass = video[..., 0].astype(np.float64)
    assert all(m.sum() > 0 for m in mass)                     # something is always visible
    rows = np.arange(64)
    centre = [(m.sum(1) @ rows) / m.sum() for m in mass]
    assert np.ptp(centre) > 2                                  # and it moves
  binary = _first("binarized_moving_fashion_mnist_small", "test")
  assert set(np.unique(binary)) <= {0, 1}
