"""The models the benchmarks compare, built at matched parameter counts, each
with one training step (``tf.function``) and a test bits/dim.

tfgen models train through Keras ``fit``, as users run them; the TFP peers train with the loop a TFP user would write:
GradientTape and Adam, on dequantized floats, with the same bits/dim.
"""

import math
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen._keras import keras

tfb, tfd = tfp.bijectors, tfp.distributions
SHAPE = (28, 28, 1)
DIMS = 28 * 28
MODELS = ("tfgen_glow", "tfgen_glow_bf16", "tfp_glow", "tfgen_realnvp", "tfgen_gated_pixelcnn",
          "tfgen_gated_pixelcnn_bf16", "tfgen_gated_pixelcnn_unet", "tfp_pixelcnn")


def count(variables):
  return int(sum(np.prod(v.shape) for v in variables))


class _StepClock(keras.callbacks.Callback):
  """Wall-clock seconds of each ``fit`` step. Keras hands a plain callback
  NumPy logs, so each step has finished when its batch-end hook runs."""

  def on_train_begin(self, logs=None):
    self.seconds, self._last = [], time.perf_counter()

  def on_train_batch_end(self, batch, logs=None):
    now = time.perf_counter()
    self.seconds.append(now - self._last)
    self._last = now


class Peer:
  """``train(batches) -> (seconds of each step, last bits/dim, finite)``, ``bpd(x) -> [B]``,
  ``forward(x)`` (log_prob, for FLOP counting) and ``params``."""

  def __init__(self, name, lr=1e-3, jit_compile=False):
    if name not in MODELS:
      raise ValueError(f"unknown model {name!r}; one of {MODELS}")
    self.name = name
    getattr(self, "_" + name)(lr, jit_compile)

  # -- tfgen: Keras models ---------------------------------------------------

  def _keras(self, model, lr, jit_compile):
    from tfgen.training import default_optimizer
    model.compile(default_optimizer(lr), jit_compile=jit_compile)
    self.model = model
    self.params = count(model.trainable_variables)

    def train(batches, warmup=True):
      """Runs one training step per batch with ``fit`` (after a warm-up call
      on two of them); returns (seconds of each step, bits/dim, all steps
      finite)."""
      ds = tf.data.Dataset.from_tensor_slices(tf.stack(batches)).prefetch(2)
      if warmup:
        model.fit(ds.take(2), epochs=1, verbose=0)  # tracing, ActNorm init
      model.nonfinite_steps.assign(0)
      clock = _StepClock()
      history = model.fit(ds, epochs=1, verbose=0, callbacks=[clock])
      return clock.seconds, history.history["bits_per_dim"][-1], int(
          model.nonfinite_steps.numpy()) == 0

    def forward(x):
      return model.log_prob(x)

    self.train, self.forward = train, forward
    self.bpd = lambda x: model.bits_per_dim(x).numpy()

  def _tfgen_glow(self, lr, jit_compile):
    from tfgen.flows import Glow
    self._keras(Glow(SHAPE, levels=2, steps_per_level=8, hidden_channels=256), lr, jit_compile)

  def _bf16(self, build, lr, jit_compile):
    # tfgen's mixed-precision option: the networks compute in bfloat16 (fast
    # on CPUs with AVX512-BF16/AMX, and on TPUs and recent GPUs); log-dets,
    # logits and the loss stay float32.
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
      build(lr, jit_compile)
    finally:
      keras.mixed_precision.set_global_policy("float32")

  def _tfgen_glow_bf16(self, lr, jit_compile):
    self._bf16(self._tfgen_glow, lr, jit_compile)

  def _tfgen_realnvp(self, lr, jit_compile):
    from tfgen.flows import RealNVP
    self._keras(RealNVP(SHAPE, levels=2, hidden_channels=128), lr, jit_compile)

  def _tfgen_gated_pixelcnn(self, lr, jit_compile):
    from tfgen.autoregressive import PixelCNN
    self._keras(PixelCNN(SHAPE, filters=96, num_layers=6, gated=True), lr, jit_compile)

  def _tfgen_gated_pixelcnn_unet(self, lr, jit_compile):
    # downsample=2: gated blocks at 28, 14 and 7 px, as tfd.PixelCNN's
    # num_hierarchies=2; 64 filters x 2 blocks per resolution matches its size.
    from tfgen.autoregressive import PixelCNN
    self._keras(PixelCNN(SHAPE, filters=64, num_layers=2, gated=True, downsample=2), lr,
                jit_compile)

  def _tfgen_gated_pixelcnn_bf16(self, lr, jit_compile):
    self._bf16(self._tfgen_gated_pixelcnn, lr, jit_compile)

  # -- TFP: distributions trained with a GradientTape loop -------------------

  def _tfp(self, dist, to_float, offset_bits, lr, jit_compile):
    optimizer = keras.optimizers.Adam(lr)
    self.dist = dist

    def bpd(x):
      return -dist.log_prob(to_float(x)) / (DIMS * math.log(2.)) + offset_bits

    @tf.function(jit_compile=jit_compile)
    def step(x):
      with tf.GradientTape() as tape:
        loss = tf.reduce_mean(bpd(x))
      variables = dist.trainable_variables
      optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
      return loss

    dist.log_prob(to_float(tf.zeros((2,) + SHAPE, tf.uint8)))  # creates the variables
    self.params = count(dist.trainable_variables)

    def train(batches, warmup=True):
      for x in batches[:2] if warmup else []:  # tracing (and TFP's ActNorm init)
        step(x)
      seconds, losses = [], []
      for x in batches:
        start = time.perf_counter()
        losses.append(float(step(x)))  # waits for the step
        seconds.append(time.perf_counter() - start)
      return seconds, losses[-1], bool(np.all(np.isfinite(losses)))

    def forward(x):
      return dist.log_prob(to_float(x))

    self.train, self.forward = train, forward
    self.bpd = lambda x: tf.function(bpd)(x).numpy()

  def _tfp_glow(self, lr, jit_compile):
    glow = tfb.Glow(output_shape=SHAPE, num_glow_blocks=2, num_steps_per_block=8,
                    coupling_bijector_fn=lambda s: tfb.GlowDefaultNetwork(s, num_hidden=256),
                    exit_bijector_fn=tfb.GlowDefaultExitNetwork)
    dist = tfd.TransformedDistribution(
        tfd.Sample(tfd.Normal(0., 1.), glow.inverse_event_shape(SHAPE)), glow)

    def dequantize(x):  # uniform dequantization to [-0.5, 0.5): bits/dim gain 8 (= log2 256)
      x = tf.cast(x, tf.float32)
      return (x + tf.random.uniform(tf.shape(x))) / 256. - 0.5
    self._tfp(dist, dequantize, 8., lr, jit_compile)

  def _tfp_pixelcnn(self, lr, jit_compile):
    dist = tfd.PixelCNN(SHAPE, num_resnet=1, num_hierarchies=2, num_filters=48,
                        num_logistic_mix=5, dropout_p=0.)
    # A discretized logistic mixture over the integer levels: discrete already.
    self._tfp(dist, lambda x: tf.cast(x, tf.float32), 0., lr, jit_compile)


def test_bpd(peer, test_images, batch=500):
  """Mean test bits/dim over ``test_images`` (uint8 [N, 28, 28, 1])."""
  values = [peer.bpd(tf.constant(test_images[i:i + batch]))
            for i in range(0, len(test_images), batch)]
  return float(np.mean(np.concatenate(values)))


# ----------------------------------------------------------------------------- sequences

def keras_mha_gpt(length, num_levels=256, num_layers=4, d_model=128, num_heads=4):
  """A decoder-only Transformer as a tf_keras user writes it: the functional
  API and ``layers.MultiHeadAttention(use_causal_mask=True)``, with the same
  pre-LayerNorm blocks, learned positions and sizes as ``tfgen.Transformer``
  (so the parameter counts match). Trains with sparse categorical
  cross-entropy on the next token."""
  L = keras.layers
  tokens = keras.Input((length,), dtype="int32")
  shifted = L.Lambda(lambda t: tf.concat([tf.fill([tf.shape(t)[0], 1], num_levels),
                                          t[:, :-1]], 1))(tokens)
  positions = L.Lambda(lambda t: tf.broadcast_to(tf.range(length), tf.shape(t)))(tokens)
  h = L.Embedding(num_levels + 1, d_model)(shifted) + L.Embedding(length, d_model)(positions)
  for _ in range(num_layers):
    a = L.LayerNormalization(epsilon=1e-5)(h)
    h = h + L.MultiHeadAttention(num_heads, d_model // num_heads)(a, a, use_causal_mask=True)
    m = L.LayerNormalization(epsilon=1e-5)(h)
    h = h + L.Dense(d_model)(L.Dense(4 * d_model, activation="gelu")(m))
  logits = L.Dense(num_levels)(L.LayerNormalization(epsilon=1e-5)(h))
  return keras.Model(tokens, logits)


def sequence_model(name, length):
  """``(compiled model, parameter count)`` for the sequence benchmarks."""
  from tfgen.autoregressive import Transformer
  from tfgen.training import default_optimizer
  size = dict(num_layers=4, d_model=128, num_heads=4)
  if name == "keras_mha_gpt":
    model = keras_mha_gpt(length, **size)
    model.compile(default_optimizer(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  else:
    attention = name.rsplit("_", 1)[1]
    model = Transformer(context_length=length, attention=attention, **size)
    model.compile(default_optimizer(1e-3))
  return model, count(model.trainable_variables)


def sequence_flops(params, batch, length):
  """Forward float operations of a step by the usual ``2·N`` per token rule
  (Kaplan et al. 2020), attention scores left out, the same for every model
  (the profiler misses the einsums inside keras.layers.MultiHeadAttention)."""
  return 2 * params * batch * length
