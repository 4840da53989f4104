"""tfgen.training.Adam is Keras's Adam, step for step; default_optimizer's checks."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen._keras import keras
from tfgen.training import Adam, default_optimizer


def _trajectory(optimizer, steps=6, graph=True):
  """Variables after ``steps`` updates of a small non-convex loss."""
  rng = np.random.default_rng(0)
  variables = [tf.Variable(rng.normal(size=s).astype(np.float32)) for s in ((3, 4), (4,), ())]
  targets = [tf.constant(rng.normal(size=v.shape).astype(np.float32)) for v in variables]

  def step():
    with tf.GradientTape() as tape:
      loss = tf.add_n([tf.reduce_sum(tf.sin(3. * v) * (v - t) ** 2)
                       for v, t in zip(variables, targets)])
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

  step = tf.function(step) if graph else step
  for _ in range(steps):
    step()
  return [v.numpy() for v in variables]


@pytest.mark.parametrize("graph", [True, False])
@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 0.05},
    {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3, "global_clipnorm": 1.},
    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)},
    {"learning_rate": 0.05, "amsgrad": True},
])
def test_matches_keras_adam(kwargs, graph):
  ours = _trajectory(Adam(**kwargs), graph=graph)
  theirs = _trajectory(keras.optimizers.Adam(**kwargs), graph=graph)
  start = _trajectory(keras.optimizers.SGD(0.), steps=1, graph=graph)
  for a, b, s in zip(ours, theirs, start):
    assert not np.allclose(a, s)           # the variables moved
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_fused_graph_is_smaller():
  """The point of the class: fewer ops per variable in the traced update."""
  def count(optimizer):
    variables = [tf.Variable(tf.ones([5])) for _ in range(10)]

    @tf.function
    def step():
      optimizer.apply_gradients([(tf.ones([5]), v) for v in variables])
    return len(step.get_concrete_function().graph.as_graph_def().node)
  assert count(Adam(1e-3)) < 0.6 * count(keras.optimizers.Adam(1e-3))


def test_checkpoints_interchange_with_keras_adam(tmp_path):
  v = tf.Variable([1., 2.])
  ours = Adam(0.1)
  ours.apply_gradients([(tf.constant([0.5, -1.]), v)])
  tf.train.Checkpoint(optimizer=ours, v=v).write(str(tmp_path / "ckpt"))
  w = tf.Variable([0., 0.])
  theirs = keras.optimizers.Adam(0.1)
  theirs.build([w])
  tf.train.Checkpoint(optimizer=theirs, v=w).read(str(tmp_path / "ckpt")).assert_consumed()
  np.testing.assert_allclose(theirs.variables[1].numpy(), ours.variables[1].numpy())
  assert int(theirs.iterations.numpy()) == 1


def test_serializes():
  config = keras.optimizers.serialize(default_optimizer(2e-3))
  again = keras.optimizers.deserialize(config)
  assert isinstance(again, Adam)
  assert again.global_clipnorm == 50. and np.isclose(float(again.learning_rate), 2e-3)


@pytest.mark.parametrize("bad", [0, -1e-3, float("nan"), float("inf"), True, "1e-3", None])
def test_default_optimizer_refuses_bad_numbers(bad):
  with pytest.raises(ValueError, match="learning_rate"):
    default_optimizer(bad)
  with pytest.raises(ValueError, match="global_clipnorm"):
    default_optimizer(1e-3, bad)
