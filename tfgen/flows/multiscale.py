"""The multi-scale architecture (Dinh et al. 2017, §3.6; Kingma & Dhariwal 2018)."""

import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.bijectors import FactorOut, Unsqueeze

tfb = tfp.bijectors


def check_squeezable(image_shape, squeezes, model):
  """Raises a ValueError unless H and W survive ``squeezes`` halvings."""
  h, w, _ = _validation.image_shape(image_shape)
  div = 2 ** squeezes
  if h % div or w % div:
    raise ValueError(
        f"{model} squeezes {squeezes} time(s), so height and width must be divisible by {div}; "
        f"got image_shape {tuple(image_shape)}. Use fewer levels or pad the images "
        f"(for example 28x28 -> 32x32).")


def squeeze_in(name):
  """The data-side squeeze inside a generative chain (forward un-squeezes)."""
  return Unsqueeze(name=name + "_unsqueeze")


def multiscale(shape, levels, level_fn, prior="gaussian", top_fn=None, index=0):
  """Builds a flat-latent → ``shape`` bijector, one level at a time.

  ``level_fn(index, shape, is_last)`` returns ``(bijectors, out_shape)``: the
  level's bijectors in data-side-first order and the event shape they
  leave. After each level but the last, :class:`FactorOut` sends half the
  channels to the latent and recurses on the rest; after the last level,
  ``top_fn(shape)`` (optional, e.g. a learned prior) and a reshape to a flat
  vector end the chain.
  """
  last = index == levels - 1
  bijectors, out = level_fn(index, list(shape), last)
  if last:
    top = top_fn(out) if top_fn is not None else None
    tail = [top] if top is not None else []
    size = out[0] * out[1] * out[2]
    tail.append(tfb.Reshape(event_shape_out=out, event_shape_in=[size], name=f"l{index}_flatten"))
  else:
    kept = [out[0], out[1], out[2] - out[2] // 2]
    inner = multiscale(kept, levels, level_fn, prior, top_fn, index + 1)
    tail = [FactorOut(out, inner, prior=prior, name=f"l{index}_split")]
  return tfb.Chain(bijectors + tail, name=f"level{index}")
