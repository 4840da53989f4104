"""MaskedMLP: every mask keeps the autoregressive property (by gradients), per-example masks
equal per-batch ones, and bad orders are refused."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.layers.masked_mlp import MaskedMLP


@pytest.mark.parametrize("params", [1, 3])
def test_every_mask_is_autoregressive_in_its_order(params):
  net = MaskedMLP(6, [16, 16], params=params, num_masks=4, order=[5, 4, 3, 2, 1, 0], seed=1)
  perturb(net, 0.5)
  x = tf.constant(np.random.default_rng(0).normal(size=(1, 6)), tf.float32)
  assert net.orders[0].tolist() == [5, 4, 3, 2, 1, 0]
  assert len({tuple(o) for o in net.orders}) > 1          # other masks use other orders
  for m in range(4):
    position = np.empty(6, int)
    position[net.orders[m]] = np.arange(6)
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(x)
      out = net(x, mask=m)
    paths = np.linalg.multi_dot([mask[m].numpy() for mask in net.masks])   # [D, D·params]
    for i in range(6):
      g = tape.gradient(tf.reduce_sum(out[:, i]), x)
      grad = np.zeros(6) if g is None else np.abs(g.numpy()[0])
      earlier = position < position[i]
      assert np.all(grad[~earlier] == 0), (m, i)          # nothing at or after i
      column = paths[:, i * params]
      assert np.all(column[~earlier] == 0) and (position[i] == 0 or column.sum() > 0)


def test_per_example_masks_match_per_batch_masks():
  net = MaskedMLP(5, [8], params=2, num_masks=3, seed=0, condition_size=2)
  perturb(net, 0.5)
  x = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
  c = np.random.default_rng(2).normal(size=(3, 2)).astype(np.float32)
  mixed = net(x, mask=[2, 0, 1], condition=c).numpy()
  for b, m in enumerate([2, 0, 1]):
    np.testing.assert_allclose(mixed[b], net(x[b:b + 1], mask=m, condition=c[b:b + 1])[0],
                               rtol=1e-5, atol=1e-6)


def test_bad_arguments():
  with pytest.raises(ValueError, match="permutation"):
    MaskedMLP(3, [4], order=[0, 0, 1])
  with pytest.raises(ValueError, match="hidden layer"):
    MaskedMLP(3, [])
  with pytest.raises(ValueError, match="num_masks"):
    MaskedMLP(3, [4], num_masks=0)
