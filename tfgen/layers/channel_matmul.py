"""``x @ kernel`` over the last axis of a tensor of any rank, with few graph ops."""

import tensorflow as tf


def channel_matmul(x, kernel):
  """``y[..., f] = Σ_c x[..., c] · kernel[c, f]``: a 1×1 convolution.

  The same map as ``tf.tensordot(x, kernel, 1)``, as reshape, matmul,
  reshape. With static shapes (the usual case inside a traced training
  step) the reshapes take constant shapes, where ``tensordot`` builds
  a dozen shape ops per call, and its gradient as many again: that is
  graph size that every trace, graph optimisation and first step pays for.
  """
  out = kernel.shape[-1]
  lead = x.shape[:-1]
  flat = tf.matmul(tf.reshape(x, [-1, x.shape[-1] or tf.shape(x)[-1]]), kernel)
  if lead.is_fully_defined():
    return tf.reshape(flat, lead.as_list() + [out])
  return tf.reshape(flat, tf.concat([tf.shape(x)[:-1], [out]], 0))
