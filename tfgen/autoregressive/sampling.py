"""What every tfgen sampler shares, and the PixelCNN-style image loops.

Shared by every family (PixelCNN, WaveNet, MADE and the sequence models):

- :func:`gumbel_noise` draws the noise of a whole sample up front from a
  stateless seed, and :func:`gumbel_argmax` turns logits plus that noise
  into a draw: ``argmax(logits / T + g)`` is an exact sample of
  ``softmax(logits / T)``. Because cached and naive samplers read the same
  noise, they return the same sample for a seed: an exact test of a cache.
- :func:`put_step` and :func:`put_subpixel` write one generated position
  into a batch of sequences or images.

Image loops (PixelCNN): both draw sub-pixels in raster-then-channel order, ``t = (i·W + j)·C
+ c``, and both use the same Gumbel noise ``g[b, i, j, c, :]`` drawn from the
seed, taking ``argmax(logits / T + g)`` (an exact draw from the tempered
categorical). So for a seed they return the same images; they differ only in
how the logits at ``(i, j, c)`` are computed:

- ``naive``: the whole network on the whole image, at every step;
- ``cached``: each layer recomputes only position ``(i, j)`` from a cache of
  its inputs (Ramachandran et al. 2017, "Fast generation for convolutional
  autoregressive models").

The loops are ``tf.while_loop``s over tensors only (no Python state), so they
compile with ``tf.function`` and run under XLA.

**Coding** (:mod:`tfgen.compression`). The same samplers drive an entropy
coder. Inside :func:`coding`, :func:`gumbel_noise` returns, instead of noise,
int32 *position labels* of shape ``[*shape[:-1], 1]`` (the flat index of each
position of ``[batch, *event]``), and :func:`gumbel_argmax`, given labels,
hands the step's logits and labels to the active coder, which returns the
codes to put there: the data's when encoding, the decoded ones when
decoding. Labels are integers, so a sampler traces a separate coding
graph (its float trace is never reused), and encoder and decoder run the
very same graph: the same numbers reach the coder on both sides. A family
codes this way when its sampler draws each position once, with noise laid
out like its data; :mod:`tfgen.compression` checks both on every run.
"""

import contextlib

import numpy as np
import tensorflow as tf

from tfgen import _validation


class batch_generic:
  """A method decorator: ``tf.function`` with one trace for every batch size.

  ``tf.function(reduce_retracing=True)`` traces the first call at its exact
  shapes and generalises only at the second, so the first new ``n`` costs
  another trace (over a second for a PixelCNN sampler). This traces each
  structure of arguments once (which are None, and their dtypes and ranks)
  with the leading dimension of every tensor left unknown and the others
  as first seen. ``None`` arguments stay None.
  """

  def __init__(self, method):
    self.method = method

  def __set_name__(self, owner, name):
    self.name = name

  def __get__(self, obj, objtype=None):
    if obj is None:
      return self
    return lambda *args: self._call(obj, args)

  def _call(self, obj, args):
    args = [None if a is None else tf.convert_to_tensor(a) for a in args]
    key = (self.name,) + tuple(None if a is None else (a.dtype, a.shape.rank) for a in args)
    cache = obj.__dict__.setdefault("_batch_generic_traces", {})   # untracked by Keras
    if key not in cache:
      given = [i for i, a in enumerate(args) if a is not None]
      spec = [tf.TensorSpec([None] + args[i].shape[1:].as_list() if args[i].shape.rank
                            else [], args[i].dtype) for i in given]
      method = self.method

      def run(*tensors):
        full = [None] * len(args)
        for i, t in zip(given, tensors):
          full[i] = t
        return method(obj, *full)

      cache[key] = (tf.function(run, input_signature=spec), given)
    fn, given = cache[key]
    return fn(*[args[i] for i in given])


_CODERS = []   # the active coder (tfgen.compression drives one at a time, eagerly)


@contextlib.contextmanager
def coding(coder):
  """Within this context samplers code instead of sampling: ``coder.draw(logits
  float32 [..., K], labels int32 [...]) → int32 codes [...]`` is called once
  per step (see the module docstring)."""
  _CODERS.append(coder)
  try:
    yield coder
  finally:
    _CODERS.pop()


@contextlib.contextmanager
def coding_part(index, parts):
  """For a sampler that draws its event in ``parts`` equal parts, one sampler
  call each (a video, frame by frame): within this context the labels of a
  part's ``[B, *part]`` draw index the whole ``[B, parts, *part]`` event."""
  _PARTS.append((index, parts))
  try:
    yield
  finally:
    _PARTS.pop()


_PARTS = []


def is_coding():
  """Whether a :func:`coding` context is active (samplers then skip XLA)."""
  return bool(_CODERS)


def gumbel_noise(shape, seed):
  """Standard Gumbel noise of ``shape`` from a stateless ``seed`` (int32 ``[2]``);
  within :func:`coding`, the position labels int32 ``[*shape[:-1], 1]``."""
  if _CODERS:
    lead = tf.convert_to_tensor(shape, tf.int32)[:-1]
    labels = tf.range(tf.reduce_prod(lead))
    if _PARTS:
      index, parts = _PARTS[-1]
      size = tf.reduce_prod(lead[1:])
      labels = (labels // size * parts + index) * size + labels % size
    return tf.reshape(labels, tf.concat([lead, [1]], 0))
  u = tf.random.stateless_uniform(shape, seed=seed, minval=1e-7, maxval=1. - 1e-7)
  return -tf.math.log(-tf.math.log(u))


def gumbel_argmax(logits, noise, temperature):
  """A draw from ``softmax(logits / temperature)`` given Gumbel ``noise``: int32
  ``argmax(logits / T + g)`` over the last axis. Given position labels (int
  ``noise``, within :func:`coding`), the coder's codes for those positions."""
  logits = tf.cast(logits, tf.float32)
  if noise.dtype.is_integer:
    labels = noise[..., 0]
    codes = tf.numpy_function(_coder_draw, [logits, labels], tf.int32, stateful=True)
    codes.set_shape(labels.shape)
    return codes
  return tf.argmax(logits / temperature + noise, axis=-1, output_type=tf.int32)


def _coder_draw(logits, labels):
  if not _CODERS:
    raise RuntimeError("a coding sampler ran outside tfgen.autoregressive.sampling.coding")
  return np.asarray(_CODERS[-1].draw(logits, labels), np.int32).reshape(np.shape(labels))


class compiled:
  """A method decorator: ``tf.function(jit_compile=True)``, except within
  :func:`coding`, where the same method runs as a plain ``tf.function`` (XLA
  cannot call back into the coder)."""

  def __init__(self, method):
    self.xla = tf.function(method, reduce_retracing=True, jit_compile=True)
    self.plain = tf.function(method, reduce_retracing=True)

  def __get__(self, obj, objtype=None):
    if obj is None:
      return self
    xla, plain = self.xla.__get__(obj, objtype), self.plain.__get__(obj, objtype)
    return lambda *args, **kwargs: (plain if _CODERS else xla)(*args, **kwargs)


def put_step(codes, t, values):
  """``codes[b, t] = values[b]`` for every ``b``: one step of ``[B, T]`` sequences."""
  b = tf.range(tf.shape(codes)[0])
  return tf.tensor_scatter_nd_update(codes, tf.stack([b, tf.fill(tf.shape(b), t)], 1), values)


def _position(t, width, channels):
  c = t % channels
  j = (t // channels) % width
  i = t // (channels * width)
  return i, j, c


def _at(t, i, j, c):
  """``t[:, i, j, c]`` (an XLA dynamic slice with static size)."""
  begin = tf.stack([0, i, j, c] + [0] * (t.shape.rank - 4))
  return tf.slice(t, begin, [-1, 1, 1, 1] + [-1] * (t.shape.rank - 4))[:, 0, 0, 0]


def put_subpixel(images, i, j, c, values):
  """``images[b, i, j, c] = values[b]`` for every ``b``."""
  b = tf.range(tf.shape(images)[0])
  index = tf.stack([b] + [tf.fill(tf.shape(b), s) for s in (i, j, c)], 1)
  return tf.tensor_scatter_nd_update(images, index, values)


def sample_naive(logits_fn, images, start, noise, temperature):
  """``logits_fn(images) → [B, H, W, C, K]``; fills ``images`` from sub-pixel ``start``."""
  _, h, w, c = images.shape

  def body(t, images):
    i, j, k = _position(t, w, c)
    logits = _at(logits_fn(images), i, j, k)
    value = gumbel_argmax(logits, _at(noise, i, j, k), temperature)
    return t + 1, put_subpixel(images, i, j, k, value)
  return tf.while_loop(lambda t, _: t < h * w * c, body, (start, images))[1]


def sample_cached(stack, head_fn, scale_fn, images, start, noise, temperature, condition):
  """Cached sampling with a stack from :mod:`tfgen.layers.pixelcnn_stacks`.

  ``head_fn(features [B, F]) → logits [B, C, K]``; ``scale_fn`` maps integer
  levels to the network's input scale.
  """
  _, h, w, c = images.shape
  cache = stack.init_cache(scale_fn(images), condition, start // (w * c))

  def body(t, images, cache):
    i, j, k = _position(t, w, c)
    features, cache = stack.step(cache, i, j, condition)
    logits = tf.gather(head_fn(features), k, axis=1)
    value = gumbel_argmax(logits, _at(noise, i, j, k), temperature)
    images = put_subpixel(images, i, j, k, value)
    cache = stack.write(cache, i, j, k, scale_fn(value))
    row_done = tf.logical_and(tf.equal(j, w - 1), tf.equal(k, c - 1))
    cache = tf.cond(row_done, lambda: stack.end_row(cache, i, condition), lambda: list(cache))
    return t + 1, images, cache

  return tf.while_loop(lambda t, *_: t < h * w * c, body, (start, images, cache))[1]


def as_prime(prime, num_levels, length):
  """A sequence prime as int32 codes ``[P]`` with ``1 ≤ P ≤ length``.

  ``prime`` is a byte string, a str (encoded as UTF-8: byte-level models),
  or integer codes in ``[0, num_levels)``. Raises a ValueError that says
  what was expected otherwise.
  """
  if isinstance(prime, (tf.Tensor, tf.Variable)):
    # A served prime: int codes, empty meaning none, checked in the graph.
    codes = _validation.discrete_batch(prime[None], [None], num_levels, name="prime",
                                       allow_empty=True)[0]
    return _validation.at_least(codes, length, tf.size(codes),
                                "`prime` must not be longer than `length`.")
  if isinstance(prime, str):
    prime = prime.encode("utf-8")
  if isinstance(prime, (bytes, bytearray)):
    codes = np.frombuffer(bytes(prime), np.uint8).astype(np.int64)
  else:
    try:
      codes = np.asarray(prime)
    except (TypeError, ValueError):
      codes = None
    if (codes is None or codes.ndim != 1 or codes.dtype == bool or codes.dtype == object
        or not (np.issubdtype(codes.dtype, np.integer) or np.issubdtype(codes.dtype, np.floating))):
      raise ValueError(f"`prime` must be bytes, a str or a 1-D array of integer codes, got "
                       f"{type(prime).__name__}.")
    if np.issubdtype(codes.dtype, np.floating):
      if not np.all(np.isfinite(codes)) or np.any(codes != np.round(codes)):
        raise ValueError("`prime` codes must be whole numbers.")
    codes = codes.astype(np.int64)
  if codes.size == 0:
    raise ValueError("`prime` is empty; pass at least one code, or no prime.")
  if codes.size > length:
    raise ValueError(f"`prime` has {codes.size} codes: longer than length={length}.")
  if codes.min() < 0 or codes.max() >= num_levels:
    raise ValueError(f"`prime` codes must lie in [0, {num_levels - 1}], got values in "
                     f"[{codes.min()}, {codes.max()}].")
  return tf.constant(codes.astype(np.int32))


def primed(t, prime, sampled):
  """The code at step ``t``: ``prime[t]`` while ``t < len(prime)``, else ``sampled``."""
  size = tf.size(prime)
  padded = tf.concat([prime, [0]], 0)  # gather stays in range when the prime is empty
  forced = tf.gather(padded, tf.minimum(t, size))
  return tf.where(t < size, tf.fill(tf.shape(sampled), forced), sampled)


def image_prefix(prefix, n, image_shape, num_levels):
  """Validated top rows to keep when sampling ``n`` images: ``(images int32
  [n, H, W, C] with the prefix in place and zeros below, first free
  sub-pixel index)``. ``prefix`` is ``None`` or ``[n, rows, W, C]`` with
  ``1 ≤ rows < H``."""
  h, w, c = image_shape
  images = tf.zeros(tf.stack([n, h, w, c]), tf.int32)
  if prefix is None:
    return images, 0
  if not isinstance(n, int):
    raise ValueError("`prefix` needs a Python int `n` (the number of rows it holds).")
  prefix = _validation.discrete_batch(prefix, [None, w, c], num_levels, name="prefix")
  if prefix.shape[0] != n or not 0 < prefix.shape[1] < h:
    raise ValueError(f"`prefix` must have shape [{n}, rows, {w}, {c}] with 1 <= rows <= "
                     f"{h - 1}, got {prefix.shape.as_list()}.")
  return tf.concat([prefix, images[:, prefix.shape[1]:]], axis=1), prefix.shape[1] * w * c
