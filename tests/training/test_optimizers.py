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


def _problem(sparse=False):
  rng = np.random.default_rng(1)
  variables = [tf.Variable(rng.normal(size=s).astype(np.float32)) for s in ((6, 3), (3,))]

  def grads(scale=1.):
    with tf.GradientTape() as tape:
      rows = tf.gather(variables[0], [0, 2, 2]) if sparse else variables[0]
      loss = tf.reduce_sum(tf.sin(rows) * 3.) + tf.reduce_sum(variables[1] ** 3)
    return [g * scale if not isinstance(g, tf.IndexedSlices)
            else tf.IndexedSlices(g.values * scale, g.indices, g.dense_shape)
            for g in tape.gradient(loss, variables)]
  return variables, grads


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 0.05, "global_clipnorm": 1.},
    {"learning_rate": 0.05, "clipnorm": 0.5},
    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5), "clipvalue": 0.3},
])
def test_apply_gradients_if_true_is_apply_gradients(kwargs, sparse):
  ours, theirs = Adam(**kwargs), Adam(**kwargs)
  (va, ga), (vb, gb) = _problem(sparse), _problem(sparse)
  step_a = tf.function(lambda: ours.apply_gradients_if(tf.constant(True), zip(ga(), va)))
  step_b = tf.function(lambda: theirs.apply_gradients(zip(gb(), vb)))
  for _ in range(4):
    step_a(), step_b()
  assert int(ours.iterations.numpy()) == 4
  for a, b in zip(va, vb):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_step_that_is_not_ok_undoes_the_last_update_and_keeps_the_state(sparse):
  optimizer = Adam(keras.optimizers.schedules.ExponentialDecay(0.3, 1, 0.5), global_clipnorm=2.)
  variables, grads = _problem(sparse)

  @tf.function
  def step(ok, scale):
    g = grads(scale)
    norm = tf.linalg.global_norm(g)
    optimizer.apply_gradients_if(ok, zip(g, variables), global_norm=norm)

  step(tf.constant(True), 1.)
  before = [v.numpy() for v in variables]
  step(tf.constant(True), 1.)
  moved = [v.numpy() for v in variables]
  state = [s.numpy() for s in optimizer.variables]
  step(tf.constant(False), float("nan"))          # NaN gradients: back to `before`
  for b, m, v in zip(before, moved, variables):
    assert not np.allclose(b, m)
    np.testing.assert_allclose(v.numpy(), b, rtol=1e-6, atol=1e-7)
  for s, now in zip(state, optimizer.variables):  # m, v and iterations untouched
    np.testing.assert_array_equal(s, now.numpy())
  undone = [v.numpy() for v in variables]
  step(tf.constant(False), float("inf"))          # nothing more to undo
  for u, v in zip(undone, variables):
    np.testing.assert_array_equal(u, v.numpy())
  step(tf.constant(True), 1.)                     # and training goes on
  assert int(optimizer.iterations.numpy()) == 3
  assert all(np.all(np.isfinite(v.numpy())) for v in variables)


def test_forget_last_update_leaves_the_variables_on_a_bad_step():
  optimizer = Adam(0.1)
  variables, grads = _problem()
  optimizer.apply_gradients_if(tf.constant(True), zip(grads(), variables))
  variables[0].assign(tf.zeros_like(variables[0]))  # set from elsewhere
  optimizer.forget_last_update()
  optimizer.apply_gradients_if(tf.constant(False), zip(grads(float("nan")), variables))
  np.testing.assert_array_equal(variables[0].numpy(), 0.)


@pytest.mark.parametrize("kwargs", [{"amsgrad": True}, {"weight_decay": 0.1}, {"use_ema": True}])
def test_apply_gradients_if_refuses_updates_it_cannot_guard(kwargs):
  optimizer = Adam(0.1, **kwargs)
  assert not optimizer.guards_updates
  variables, grads = _problem()
  with pytest.raises(ValueError, match="apply_gradients_if"):
    optimizer.apply_gradients_if(tf.constant(True), zip(grads(), variables))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_the_guarded_step_needs_no_control_flow(jit_compile):
  optimizer = Adam(1e-3, global_clipnorm=1.)
  optimizer.jit_compile = jit_compile  # Keras turns it on by default where there is a GPU
  assert optimizer.guards_updates
  variables = [tf.Variable(tf.ones([5])) for _ in range(10)]

  @tf.function
  def step(ok):
    optimizer.apply_gradients_if(ok, [(tf.ones([5]), v) for v in variables])
  ops = {n.op for n in step.get_concrete_function(tf.constant(True)).graph.as_graph_def().node}
  assert not ops & {"If", "StatelessIf", "Switch", "Merge"}
  assert "ResourceApplyAdam" in ops


def test_apply_gradients_if_undoes_only_its_own_updates():
  optimizer = Adam(0.1)
  variables, grads = _problem()
  optimizer.apply_gradients_if(tf.constant(True), zip(grads(), variables))
  optimizer.apply_gradients(zip(grads(), variables))  # a plain update is not undone
  after = [v.numpy() for v in variables]
  optimizer.apply_gradients_if(tf.constant(False), zip(grads(float("nan")), variables))
  for a, v in zip(after, variables):
    np.testing.assert_array_equal(a, v.numpy())
