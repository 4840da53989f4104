"""Parallel WaveNet (van den Oord et al. 2017): an IAF student distilled from a
trained WaveNet by probability density distillation."""

import numpy as np
import tensorflow as tf

from tfgen import _validation, audio
from tfgen._keras import keras
from tfgen.autoregressive.wavenet import WaveNet
from tfgen.base import GenerativeModel
from tfgen.family import ModelFamily, SizeOption, int_list
from tfgen.layers.causal_conv import CausalConv1D

#: Largest |log s| of one flow's scale (a soft clamp, as in tfgen's couplings).
_MAX_LOG_SCALE = 7.


class StudentFlow(keras.layers.Layer):
  """One IAF flow of the student: ``z'_t = z_t · s_t + μ_t`` with
  ``(μ_t, log s_t) = NN(z_<t)``.

  ``NN`` is WaveNet-like: the input shifted one step right (so step ``t``
  sees ``z_<t`` only), a 1×1 convolution to ``channels``, ``num_layers``
  gated dilated causal convolutions (dilations 1, 2, …, 512, repeating)
  with residual and skip connections, and ReLU → 1×1 → ReLU → 1×1 to the
  two outputs. The last convolution starts at zero, so a new flow has
  ``μ = 0`` and ``log s = initial_log_scale``. ``log s`` is soft-clamped to
  ``±7``. A global condition (one-hot ``[B, K]``) adds a learned bias to
  every gate.
  """

  def __init__(self, num_layers, channels, kernel_size=2, condition_size=None,
               initial_log_scale=0., **kwargs):
    super().__init__(**kwargs)
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.channels = _validation.positive_int(channels, "channels")
    c = self.channels
    self.dilations = [2 ** (i % 10) for i in range(self.num_layers)]
    self.inp = keras.layers.Conv1D(c, 1, name="input")
    self.dilated = [CausalConv1D(2 * c, kernel_size, d, name=f"dilated_{i}")
                    for i, d in enumerate(self.dilations)]
    self.residual = [keras.layers.Conv1D(c, 1, name=f"residual_{i}")
                     for i in range(self.num_layers - 1)]
    self.skip = [keras.layers.Conv1D(c, 1, name=f"skip_{i}") for i in range(self.num_layers)]
    self.cond = ([keras.layers.Dense(2 * c, use_bias=False, name=f"condition_{i}")
                  for i in range(self.num_layers)] if condition_size else [])
    self.head_hidden = keras.layers.Conv1D(c, 1, name="head_hidden")
    self.head_out = keras.layers.Conv1D(
        2, 1, kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant([0., float(initial_log_scale)]),
        name="head_out")

  def call(self, z, condition=None):
    """``z [B, T]`` → ``(μ [B, T], log s [B, T])``, each step from ``z_<t``."""
    h = self.inp(tf.pad(z[:, :-1], [[0, 0], [1, 0]])[..., None])
    skips = 0.
    for i in range(self.num_layers):
      a = self.dilated[i](h)
      if self.cond:
        a += self.cond[i](condition)[:, None, :]
      f, g = tf.split(a, 2, axis=-1)
      u = tf.tanh(f) * tf.sigmoid(g)
      skips += self.skip[i](u)
      if i < len(self.residual):
        h = h + self.residual[i](u)
    out = self.head_out(tf.nn.relu(self.head_hidden(tf.nn.relu(skips))))
    return out[..., 0], _MAX_LOG_SCALE * tf.tanh(out[..., 1] / _MAX_LOG_SCALE)


def _as_wavenet(teacher):
  return _validation.model_or_config(teacher, WaveNet, "teacher", "a trained tfgen WaveNet")


class ParallelWaveNet(GenerativeModel):
  """A student that generates a whole waveform in one parallel pass per flow,
  trained to match a WaveNet teacher (van den Oord et al. 2017).

  **Student.** Logistic noise ``z⁰_t ~ Logistic(0, 1)`` passes through
  ``len(flow_layers)`` :class:`StudentFlow`\\ s, ``zⁱ = zⁱ⁻¹ · sⁱ(zⁱ⁻¹_<t) +
  μⁱ(zⁱ⁻¹_<t)``; the waveform is the last ``z``. Composed, every sample is
  ``x_t = z⁰_t · S_t + M_t`` with ``S = ∏ sⁱ`` and ``M`` the accumulated
  shift, both functions of ``z⁰_<t`` only: given the noise before ``t``,
  ``x_t ~ Logistic(M_t, S_t)``. Generation needs no loop over time.

  **Loss: probability density distillation.** ``KL(P_S ‖ P_T)`` over the
  student's own samples, per step. tfgen's choice, made explicit: the
  student's logistic ``p_S(x_t | z⁰_<t)`` is *discretised onto the
  teacher's μ-law bins* (bin ``k`` is the interval of waveform values that
  μ-law encodes to code ``k``; the outer bins take the tails). Then
  ``KL_t = Σ_k p_S(k) (log p_S(k) − log p_T(k | x_<t))`` is computed
  exactly over the ``num_levels`` bins (the cross-entropy and the
  student's entropy alike), not estimated from one draw, and is never
  negative. The teacher reads the student's samples μ-law encoded (it
  takes codes, so no gradient flows through its input: the student learns
  through its own per-step distributions ``M_t, S_t``, which is where the
  paper's exact per-step cross-entropy term carries its gradient). Steps
  before the teacher's ``loss_start`` (cut-off context) are not scored.

  **Power loss** (§3.2 of the paper): ``power_weight ×`` the mean squared
  difference of the log average power spectra (``|STFT|²`` averaged over
  frames and over the batch) of the student's samples and the real speech
  in the batch. tfgen compares logarithms so that the term does not depend
  on the recording level.

  ``fit`` takes the teacher's training data (μ-law codes ``[B, T]``): they
  feed the power loss; the KL term needs only the teacher. ``evaluate``
  reports ``kl`` and ``teacher_bits`` (the teacher's cross-entropy on
  student samples) in bits per sample, and ``power``. A global condition
  (speaker or class ids) follows the teacher's ``num_classes``.

  Args:
    teacher: a trained :class:`~tfgen.autoregressive.WaveNet` (frozen here),
      or its config.
    flow_layers: layers of each flow (the paper: ``(10, 10, 10, 30)``).
    channels: width of every flow.
    power_weight: weight of the power loss (0 turns it off).
    frame_length: STFT frame of the power loss, in samples.

  References:
    - van den Oord et al. (2017). Parallel WaveNet: Fast High-Fidelity Speech Synthesis.
      arXiv:1711.10433.
  """

  DATA_KINDS = ("audio",)

  def __init__(self, teacher, flow_layers=(10, 10, 10, 30), channels=64, power_weight=1.0,
               frame_length=256, name="parallel_wavenet", **kwargs):
    super().__init__(name=name, **kwargs)
    self.teacher = _as_wavenet(teacher)
    self.teacher.trainable = False
    if self.teacher.local_condition_channels:
      raise ValueError("ParallelWaveNet distils teachers with a global condition (num_classes) "
                       "or none; this teacher takes local features (condition_shape), which "
                       "the student does not model.")
    if not isinstance(flow_layers, (list, tuple)) or not flow_layers:
      raise ValueError(f"`flow_layers` must be a non-empty list of layer counts, got "
                       f"{flow_layers!r}.")
    self.flow_layers = [_validation.positive_int(n, "flow_layers entry") for n in flow_layers]
    self.channels = _validation.positive_int(channels, "channels")
    self.power_weight = float(power_weight)
    if not (np.isfinite(self.power_weight) and self.power_weight >= 0):
      raise ValueError(f"`power_weight` must be finite and non-negative, got {power_weight!r}.")
    self.frame_length = _validation.positive_int(frame_length, "frame_length")
    if self.frame_length < 4:  # the STFT hops a quarter frame
      raise ValueError(f"`frame_length` must be at least 4 samples (the power loss hops "
                       f"frame_length // 4), got {frame_length!r}.")
    self.num_levels = self.teacher.num_levels
    self.sample_rate = self.teacher.sample_rate
    self.event_shape = (None,)
    self._set_condition(self.teacher.num_classes)
    # Speech sits well inside [-1, 1]: the first flow starts at scale e^-3.
    self.flows = [StudentFlow(n, self.channels, condition_size=self.condition_size,
                              initial_log_scale=-3. if i == 0 else 0., name=f"flow_{i}")
                  for i, n in enumerate(self.flow_layers)]
    # Bin k of the μ-law code is [edge_{k-1}, edge_k) in the waveform domain.
    mu = float(self.num_levels - 1)
    companded = (2. * np.arange(self.num_levels - 1) + 1.) / mu - 1.
    self._edges = (np.sign(companded) * np.expm1(np.abs(companded) * np.log1p(mu)) / mu
                   ).astype(np.float32)
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.kl_tracker = keras.metrics.Mean(name="kl")
    self.teacher_bits_tracker = keras.metrics.Mean(name="teacher_bits")
    self.power_tracker = keras.metrics.Mean(name="power")
    cond = None if not self.num_classes else tf.zeros([1, self.num_classes])
    self.transform(tf.zeros([1, 2]), cond)           # build every weight now
    self.built = True

  @property
  def metrics(self):
    return [self.loss_tracker, self.kl_tracker, self.teacher_bits_tracker, self.power_tracker]

  @property
  def receptive_field(self):
    """Noise samples ``z⁰`` one output can depend on (through all flows)."""
    return 1 + sum(sum(f.dilations) for f in self.flows)

  @property
  def default_window(self):
    return self.teacher.default_window

  @classmethod
  def _from_dataset(cls, spec, teacher=None, **sizes):
    teacher = _as_wavenet(teacher)
    if spec.num_levels != teacher.num_levels:
      raise ValueError(f"The teacher models {teacher.num_levels} μ-law levels; dataset "
                       f"{spec.name!r} has {spec.num_levels}.")
    if teacher.sample_rate is not None and spec.sample_rate != teacher.sample_rate:
      raise ValueError(f"The teacher was trained at {teacher.sample_rate} Hz; dataset "
                       f"{spec.name!r} is at {spec.sample_rate} Hz.")
    return cls(teacher, **sizes)

  # -- the student ------------------------------------------------------------------

  def transform(self, z, condition=None):
    """Noise ``z⁰ [B, T]`` → ``(x, M, log S)``, each ``[B, T]``: the waveform
    and, per step, the location and log-scale of ``x_t``'s logistic given
    ``z⁰_<t`` (``x = z⁰ · S + M``)."""
    x = tf.convert_to_tensor(z, tf.float32)
    shift, log_scale = tf.zeros_like(x), tf.zeros_like(x)
    for flow in self.flows:
      # Each flow's network may compute in 16 bits (a mixed-precision policy);
      # the affine composition and its log-scales stay float32.
      mu, log_s = (tf.cast(t, tf.float32) for t in flow(x, condition))
      s = tf.exp(log_s)
      x, shift, log_scale = x * s + mu, shift * s + mu, log_scale + log_s
    return x, shift, log_scale

  def _noise(self, shape, seed=None, temperature=1.):
    """Logistic(0, temperature) noise (stateless for a ``seed``)."""
    if seed is None:
      u = tf.random.uniform(shape, 1e-6, 1. - 1e-6)
    else:
      u = tf.random.stateless_uniform(shape, seed, 1e-6, 1. - 1e-6, alg="philox")
    return temperature * (tf.math.log(u) - tf.math.log1p(-u))

  def _step_seed(self):
    """The training noise's seed: the optimizer step and the replica. Drawn
    with Philox, so a step's noise is the same with and without XLA (whose
    default generator differs from TensorFlow's kernels) and on resume."""
    step = self._step_count()
    ctx = tf.distribute.get_replica_context()
    replica = 0 if ctx is None else ctx.replica_id_in_sync_group
    return tf.stack([tf.cast(step % (2 ** 31 - 1), tf.int32),
                     7919 + tf.cast(replica, tf.int32)])

  def _bin_log_probs(self, shift, log_scale):
    """``log p_S(k)`` ``[B, T, K]`` of the logistic discretised on the μ-law bins."""
    inv = tf.exp(-log_scale)[..., None]
    e = (tf.constant(self._edges) - shift[..., None]) * inv        # [B, T, K-1]
    big = tf.fill(tf.shape(e[..., :1]), 1e4)
    upper, lower = tf.concat([e, big], -1), tf.concat([-big, e], -1)
    # σ(b) − σ(a) = σ(−a) − σ(−b): use the side away from saturation.
    right = (upper + lower) > 0
    p = tf.where(right, tf.sigmoid(-lower) - tf.sigmoid(-upper),
                 tf.sigmoid(upper) - tf.sigmoid(lower))
    return tf.math.log(tf.maximum(p, 1e-30))

  def _teacher_condition(self, condition):
    if condition is None:
      return None
    return tf.argmax(condition, axis=-1, output_type=tf.int32), None

  def distillation(self, z, condition=None):
    """Per-step ``(KL(p_S ‖ p_T), −Σ p_S log p_T)`` in nats ``[B, T]`` and the
    waveform ``x`` for noise ``z`` (``condition`` one-hot, or None)."""
    x, shift, log_scale = self.transform(z, condition)
    codes = tf.stop_gradient(audio.mu_law_encode(tf.clip_by_value(x, -1., 1.), self.num_levels))
    t = self.teacher
    logits = t.logits_encoded(codes, self._teacher_condition(condition))
    log_q = tf.stop_gradient(tf.nn.log_softmax(tf.cast(logits, tf.float32)))
    log_p = self._bin_log_probs(shift, log_scale)
    p = tf.exp(log_p)
    cross = -tf.reduce_sum(p * log_q, -1)
    return tf.reduce_sum(p * log_p, -1) + cross, cross, x

  def _log_power(self, waves):
    """Log of the batch-average power spectrum ``[F]`` of ``waves [B, T]``."""
    spec = tf.signal.stft(waves, self.frame_length, self.frame_length // 4,
                          window_fn=tf.signal.hann_window, pad_end=True)
    power = tf.reduce_mean(tf.square(tf.abs(spec)), axis=[0, 1])
    return tf.math.log(power + 1e-7)

  def _objective(self, x, condition, training):
    x = self._check_data(x)
    condition = self._encode_condition(condition, tf.shape(x)[0])  # class ids → one-hot
    z = self._noise(tf.shape(x, out_type=tf.int32), self._step_seed())
    kl, cross, student = self.distillation(z, condition)
    start = tf.minimum(self.teacher.loss_start, tf.shape(x)[1] - 1)
    kl, cross = kl[:, start:], cross[:, start:]
    kl_mean = tf.reduce_mean(kl, axis=1)
    real = audio.mu_law_decode(x, self.num_levels)
    power = tf.reduce_mean(tf.square(self._log_power(student) - self._log_power(real)))
    loss = kl_mean + self.power_weight * power
    bits = 1. / np.log(2.)
    return loss, {"loss": loss, "kl": kl_mean * bits,
                  "teacher_bits": tf.reduce_mean(cross, axis=1) * bits, "power": power}

  def _check_data(self, x):
    x = super()._check_data(x)
    if x.shape[1] is not None and x.shape[1] < 2:
      raise ValueError(f"`x` must hold windows of at least 2 codes, got {x.shape[1]}.")
    return x

  def call(self, x, training=False):
    """The student's samples for a batch shaped like ``x`` (codes ``[B, T]``)."""
    return self._sample(tf.shape(x)[0], None, 1.0, None, length=tf.shape(x)[1])

  def describe(self, result, spec=None):
    return (f"KL(student ‖ teacher) {result['kl']:.4f} bits/sample, the teacher's "
            f"cross-entropy on student samples {result['teacher_bits']:.4f} bits/sample, "
            f"power loss {result['power']:.4f}")

  # -- sampling ---------------------------------------------------------------------

  def waveform(self, n, length, *, seed=None, temperature=1.0, condition=None):
    """``n`` float waveforms ``[n, length]`` (unclipped) in one pass per flow."""
    n = self._check_n(n)
    length = _validation.positive_int(length, "length")
    if length > self.max_length:
      raise ValueError(f"`length` must be in [1, {self.max_length}], got {length}.")
    self._check_elements(n, self._sample_elements({"length": length}))
    encoded = self._encode_condition(condition, n)
    return self._waveform(self._noise([n, length], _validation.seed(seed),
                                      _validation.temperature(temperature)), encoded)

  @tf.function(reduce_retracing=True, jit_compile=True)
  def _waveform(self, z, condition):
    return self.transform(z, condition)[0]

  SAMPLE_OPTIONS = ("length",)

  def _sample(self, n, seed, temperature, condition, length=8000):
    """``n`` sequences of ``length`` μ-law codes, one parallel pass per flow."""
    z = self._noise(tf.stack([n, length]), seed, temperature)
    x = self._waveform(z, condition)
    return audio.mu_law_encode(tf.clip_by_value(x, -1., 1.), self.num_levels)

  def _sample_elements(self, options):
    """Floats one sequence holds at once: every flow layer's gated
    activations, ``2 · channels`` per step, and the output."""
    length = options.get("length", 8000)
    return length * (2 * self.channels + 2)

  def serving_functions(self):
    """``serving_default`` is generation (a vocoder's one job), the same
    signature as ``sample``: ``num_samples``, ``seed``, ``temperature``,
    ``length`` (and ``condition``) → μ-law ``samples``."""
    functions = super().serving_functions()
    return {"serving_default": functions["sample"], **functions}

  def get_config(self):
    return {**super().get_config(), "teacher": self.teacher.get_config(),
            "flow_layers": self.flow_layers, "channels": self.channels,
            "power_weight": self.power_weight, "frame_length": self.frame_length}


FAMILY = ModelFamily(
    "parallel_wavenet", ParallelWaveNet,
    "van den Oord et al. 2017, Parallel WaveNet: Fast High-Fidelity Speech Synthesis",
    "speech", demo=dict(flow_layers=(6, 6, 6, 8), channels=32),
    sizes=(SizeOption("flow-layers", "flow_layers", int_list,
                      "layers per IAF flow, comma-separated (the paper: 10,10,10,30)"),
           SizeOption("channels", "channels", int, "width of every flow")),
    builds_on={"teacher": "wavenet"},
    tiny=dict(flow_layers=[1, 2], channels=4))
