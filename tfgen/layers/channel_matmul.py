"""``x @ kernel`` over the last axis of a tensor of any rank, with few graph ops."""

import tensorflow as tf

from tfgen._keras import PlainCall, keras


@tf.autograph.experimental.do_not_convert  # plain TF: converting it only costs tracing time
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


class ChannelDense(PlainCall, keras.layers.Dense):
  """``keras.layers.Dense`` over the last axis (a 1×1 convolution for
  feature maps), computed by :func:`channel_matmul`: the same weights,
  names and output, a smaller graph than Dense's ``tensordot``."""

  def call(self, x):
    x = tf.cast(x, self.compute_dtype)
    y = channel_matmul(x, tf.cast(self.kernel, self.compute_dtype))
    if self.use_bias:
      y = tf.nn.bias_add(y, tf.cast(self.bias, self.compute_dtype))
    return self.activation(y) if self.activation is not None else y
