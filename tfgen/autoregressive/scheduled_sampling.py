"""Scheduled sampling (Bengio, Vinyals, Jaitly & Shazeer 2015): how often to feed the truth."""

import math

import tensorflow as tf

DECAYS = ("linear", "exponential", "inverse_sigmoid")
_DEFAULTS = {"linear": dict(k=1.0, c=1e-4, minimum=0.0),
             "exponential": dict(k=0.9998, c=None, minimum=0.0),
             "inverse_sigmoid": dict(k=1000.0, c=None, minimum=0.0)}


class ScheduledSampling:
  """``ε_i``, the probability of feeding the ground truth at training step ``i``.

  With probability ``1 − ε_i`` a recurrent model is fed its own sample of
  the previous token instead of the true one (Bengio et al. 2015, §2.4). The
  decays of the paper's Figure 2, all starting at (about) 1:

  - ``'linear'``: ``ε_i = max(minimum, k − c·i)``;
  - ``'exponential'``: ``ε_i = max(minimum, k^i)`` with ``k < 1``;
  - ``'inverse_sigmoid'``: ``ε_i = max(minimum, k / (k + exp(i / k)))`` with
    ``k ≥ 1``.

  Args:
    decay: one of ``DECAYS``.
    k, c: the decay's parameters (defaults: linear ``k=1, c=1e-4``;
      exponential ``k=0.9998``; inverse sigmoid ``k=1000``, which crosses
      ε = 0.5 near step ``k·ln k ≈ 6900``).
    minimum: the floor ``ε`` never drops below.

  Example:

  >>> float(ScheduledSampling("linear", k=1.0, c=0.01)(50))
  0.5
  """

  def __init__(self, decay="inverse_sigmoid", k=None, c=None, minimum=None):
    if decay not in DECAYS:
      raise ValueError(f"`decay` must be one of {list(DECAYS)}, got {decay!r}.")
    defaults = _DEFAULTS[decay]
    self.decay = decay
    self.k = float(defaults["k"] if k is None else k)
    self.c = None if decay != "linear" else float(defaults["c"] if c is None else c)
    self.minimum = float(defaults["minimum"] if minimum is None else minimum)
    if decay == "linear" and not (self.k > 0 and self.c > 0):
      raise ValueError(f"linear decay needs k > 0 and c > 0, got k={k!r}, c={c!r}.")
    if decay == "exponential" and not 0 < self.k < 1:
      raise ValueError(f"exponential decay needs 0 < k < 1, got k={k!r}.")
    if decay == "inverse_sigmoid" and not self.k >= 1:
      raise ValueError(f"inverse_sigmoid decay needs k >= 1, got k={k!r}.")
    if not 0 <= self.minimum <= 1:
      raise ValueError(f"`minimum` must lie in [0, 1], got {minimum!r}.")

  def __call__(self, step):
    """``ε`` at training step ``step`` (a number or a scalar tensor), float32."""
    i = tf.cast(step, tf.float32)
    if self.decay == "linear":
      eps = self.k - self.c * i
    elif self.decay == "exponential":
      eps = tf.exp(i * math.log(self.k))
    else:
      eps = self.k / (self.k + tf.exp(tf.minimum(i / self.k, 80.)))
    return tf.clip_by_value(eps, self.minimum, 1.)

  def get_config(self):
    return {"decay": self.decay, "k": self.k, "c": self.c, "minimum": self.minimum}

  @classmethod
  def from_spec(cls, spec):
    """``None``, a decay name, a config dict or a ScheduledSampling → a schedule or None."""
    if spec is None or isinstance(spec, cls):
      return spec
    if isinstance(spec, str):
      return cls(spec)
    if isinstance(spec, dict):
      return cls(**spec)
    raise ValueError(f"`scheduled_sampling` must be None, one of {list(DECAYS)}, a dict of "
                     f"ScheduledSampling arguments or a ScheduledSampling, got {spec!r}.")
