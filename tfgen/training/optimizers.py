"""The optimizer tfgen recommends for likelihood training."""

import math

import tensorflow as tf

from tfgen._keras import keras


@keras.saving.register_keras_serializable(package="tfgen")
class Adam(keras.optimizers.Adam):
  """Keras's Adam, with each dense update done by one fused kernel.

  The update is Adam's (Kingma & Ba 2015, Algorithm 1, with the "epsilon
  hat" of Section 2.1, as in Keras)::

      m ← m + (1 − β₁)(g − m)        v ← v + (1 − β₂)(g² − v)
      θ ← θ − lr · √(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)

  Keras builds it from about a dozen element-wise ops per variable, plus
  the step's scalars (``β₁ᵗ``, ``β₂ᵗ``, the learning rate) recomputed for
  every variable. Here it is TensorFlow's ``ResourceApplyAdam`` kernel, one
  op per variable, with the scalars computed once per step: the same
  arithmetic, a graph about a third the size for a flow with a few hundred
  variables, so tracing and graph optimisation before the first step are
  shorter, and so is every step on a CPU. The slots (``m``, ``v``) and the
  checkpoint layout are Keras's, so a checkpoint written by either loads
  into the other. Sparse gradients, ``amsgrad`` and ``adaptive_epsilon``
  use Keras's own update.

  :meth:`apply_gradients_if` is the update a tfgen model's training step
  uses: on a step whose loss or gradient is not finite it applies nothing
  and undoes the update before, with no control flow in the graph.

  >>> optimizer = tfgen.training.Adam(1e-3, global_clipnorm=50.)
  """

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._step_scalars = _Untracked()  # per graph and device: this step's β₁ᵗ, β₂ᵗ, lr, ...
    self._rollback = _Untracked()      # .lr: the learning rate of the last update to undo (0: none)

  @property
  def guards_updates(self):
    """Whether :meth:`apply_gradients_if` takes this optimizer's updates
    (not with ``amsgrad``, ``adaptive_epsilon``, weight decay or EMA, whose
    extra updates it does not guard). ``jit_compile`` (Keras's default on
    a GPU) does not matter: the guarded update is the fused kernels as
    they are."""
    return not (self.amsgrad or self.adaptive_epsilon or self.weight_decay or self.use_ema)

  def build(self, var_list):
    super().build(var_list)
    if not hasattr(self._rollback, "lr"):
      with self._distribution_strategy.scope():
        self._rollback.lr = tf.Variable(  # not in checkpoints: their layout stays Keras's
            0., trainable=False, name="rollback_learning_rate",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

  def apply_gradients(self, grads_and_vars, *args, **kwargs):
    self._step_scalars.values.clear()
    iteration = super().apply_gradients(grads_and_vars, *args, **kwargs)
    self.forget_last_update()  # apply_gradients_if undoes only its own updates
    return iteration

  def apply_gradients_if(self, ok, grads_and_vars, global_norm=None,
                         skip_gradients_aggregation=False):
    """``apply_gradients`` if ``ok`` (a boolean scalar tensor); if not, the
    variables go back to where they were before the last update this method
    applied, or stay where they are if there is none to undo.

    Either way it is one pass of the same kernels, with no control flow
    (a ``tf.cond`` around the update roughly doubles the traced step and
    its graph optimisation). When ``ok`` is false the gradients are taken
    as zeros (``multiply_no_nan``: they may be NaN) and ``β₁ = β₂ = 1``, so
    ``m`` and ``v`` keep their values; the learning rate is 0, or ``−lr``
    of the last update with that update's ``β₁ᵗ, β₂ᵗ`` to undo it: the
    kernel recomputes that update's step from the same ``m, v`` and adds
    it back, exact to one rounding of the updated variables.
    ``iterations`` counts applied updates only. Clipping is the
    optimizer's own; ``global_norm``, if given, is the gradients' global
    norm (saves computing it again).

    This is how a tfgen model skips a step with a non-finite loss or
    gradient: the weights return to the last ones whose loss was finite.
    Call :meth:`forget_last_update` when the variables were set from
    elsewhere since the last update.
    """
    if not self.guards_updates:
      raise ValueError("apply_gradients_if does not guard amsgrad, adaptive_epsilon, "
                       "weight_decay or use_ema updates: use apply_gradients.")
    self._step_scalars.values.clear()
    grads_and_vars = list(grads_and_vars)
    if not skip_gradients_aggregation:
      grads_and_vars = self.aggregate_gradients(grads_and_vars)
    self._compute_current_learning_rate()
    pairs = [(g, v) for g, v in grads_and_vars if g is not None]
    if not pairs:
      return self.iterations
    with tf.name_scope(self.name or "optimizer"):
      with tf.init_scope():
        self.build([v for _, v in pairs])
      grads = self._deduplicate_sparse_grad(self._zero_unless(ok, [g for g, _ in pairs],
                                                              global_norm))
      return tf.__internal__.distribute.interim.maybe_merge_call(
          self._apply_if, self._distribution_strategy,
          list(zip(grads, [v for _, v in pairs])), ok)

  def forget_last_update(self):
    """The next step that is not ``ok`` leaves the variables where they are."""
    if hasattr(self._rollback, "lr"):
      self._rollback.lr.assign(0.)

  def _zero_unless(self, ok, grads, global_norm):
    """The clipped gradients if ``ok``, else zeros (even where they are NaN)."""
    if self.global_clipnorm:
      if global_norm is None:
        global_norm = tf.linalg.global_norm(grads)
      # tf.clip_by_global_norm's scale, so both clip alike.
      clip = tf.cast(self.global_clipnorm, global_norm.dtype)
      scale = clip * tf.minimum(1. / global_norm, 1. / clip)
    else:
      grads = self._clip_gradients(grads)  # clipnorm / clipvalue, per tensor
      scale = tf.constant(1.)
    scale = tf.where(ok, scale, tf.zeros_like(scale))

    def zeroed(g):
      if isinstance(g, tf.IndexedSlices):
        return tf.IndexedSlices(zeroed(g.values), g.indices, g.dense_shape)
      return tf.math.multiply_no_nan(g, tf.cast(scale, g.dtype))
    return [zeroed(g) for g in grads]

  def _apply_if(self, distribution, grads_and_vars, ok):
    # Each update function is plain TF: autograph would convert it again for
    # every variable (about 1 s of tracing for a Glow's 178 variables).
    for grad, var in grads_and_vars:
      distribution.extended.update(var, self._update_if, args=(grad, ok), group=False)
    for var in (v for _, v in grads_and_vars if v.constraint is not None):
      distribution.extended.update(var, _constrain, group=False)
    distribution.extended.update(self._rollback.lr, self._remember_lr, args=(ok,), group=False)
    return distribution.extended.update(self.iterations, _count_if, args=(ok,), group=False)

  @tf.autograph.experimental.do_not_convert
  def _remember_lr(self, rollback_lr, ok):
    return rollback_lr.assign(tf.where(ok, tf.cast(self.learning_rate, rollback_lr.dtype), 0.))

  @tf.autograph.experimental.do_not_convert
  def _update_if(self, variable, gradient, ok):
    index = self._index_dict[self._var_key(variable)]
    m, v = self._momentums[index], self._velocities[index]
    s = self._scalars(variable, ok)
    if not isinstance(gradient, tf.IndexedSlices):
      return tf.raw_ops.ResourceApplyAdam(var=variable.handle, m=m.handle, v=v.handle,
                                          grad=gradient, **s)
    # Keras's sparse update (1 − β rounded as Keras rounds it), guarded.
    alpha = s["lr"] * tf.sqrt(1. - s["beta2_power"]) / (1. - s["beta1_power"])
    rate_1, rate_2 = (tf.where(ok, tf.cast(1 - b, variable.dtype), 0.)
                      for b in (self.beta_1, self.beta_2))
    m.assign_add(-m * rate_1)
    m.scatter_add(tf.IndexedSlices(gradient.values * rate_1, gradient.indices))
    v.assign_add(-v * rate_2)
    v.scatter_add(tf.IndexedSlices(tf.square(gradient.values) * rate_2, gradient.indices))
    return variable.assign_sub((m * alpha) / (tf.sqrt(v) + s["epsilon"]))

  def _scalars(self, variable, ok=None):
    """This step's scalars for ``ResourceApplyAdam``, computed once per
    graph, device and dtype; with ``ok``, guarded as
    :meth:`apply_gradients_if` says."""
    cache = self._step_scalars.values
    key = (id(tf.compat.v1.get_default_graph()), variable.device, variable.dtype)
    if key in cache:
      return cache[key]
    dtype = variable.dtype
    step = tf.cast(self.iterations + 1, dtype)
    beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
    lr = tf.cast(self.learning_rate, dtype)
    scalars = dict(beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step), lr=lr,
                   beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype))
    if ok is not None:
      undo = tf.cast(self._rollback.lr, dtype)
      rollback = tf.logical_and(tf.logical_not(ok), tf.not_equal(undo, 0.))
      one = tf.ones([], dtype)
      # The undone update's powers, computed as it computed them: β^t for the
      # t = iterations it counted (≥ 1 whenever there is one to undo).
      power = tf.where(rollback, step - 1., step)
      scalars.update(beta1_power=tf.pow(beta_1, power), beta2_power=tf.pow(beta_2, power),
                     lr=tf.where(ok, lr, -undo), beta1=tf.where(ok, beta_1, one),
                     beta2=tf.where(ok, beta_2, one))
    cache[key] = scalars
    return scalars

  def update_step(self, gradient, variable):
    if isinstance(gradient, tf.IndexedSlices) or self.amsgrad or self.adaptive_epsilon:
      return super().update_step(gradient, variable)
    index = self._index_dict[self._var_key(variable)]
    return tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
        grad=gradient, **self._scalars(variable))


@tf.autograph.experimental.do_not_convert
def _constrain(variable):
  return variable.assign(variable.constraint(variable))


@tf.autograph.experimental.do_not_convert
def _count_if(iterations, ok):
  return iterations.assign_add(tf.cast(ok, iterations.dtype))


class _Untracked:
  """What the optimizer holds without checkpointing it: a dict (``values``)
  or attributes. Keras would track a plain dict or variable attribute, and
  refuse a dict's tensor-valued entries on save."""

  def __init__(self):
    self.values = {}


def default_optimizer(learning_rate=1e-3, global_clipnorm=50.):
  """:class:`Adam` with global-norm gradient clipping.

  tfgen models optimise mean bits/dim, so gradient norms do not depend on
  the image size. On Fashion-MNIST Glow, unclipped Adam at 1e-3 met single
  outlier batches with gradient norms ~10⁴× the typical one (typical 40–100
  on this scale) that threw training back to 8 bits/dim; clipping at 50
  kept training monotone (see the README).
  """
  for name, value in (("learning_rate", learning_rate), ("global_clipnorm", global_clipnorm)):
    if (isinstance(value, bool) or not isinstance(value, (int, float))
        or not math.isfinite(value) or value <= 0):
      raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}.")
  return Adam(learning_rate, global_clipnorm=global_clipnorm)
