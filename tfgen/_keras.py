"""The single import point for Keras inside tfgen.

TensorFlow Probability 0.25 works only with Keras 2. In TensorFlow 2.21,
``tf.keras`` is Keras 3, so tfgen imports the Keras 2 package ``tf_keras``
here and everywhere else does ``from tfgen._keras import keras``. tfgen
never switches the process to legacy Keras through environment variables:
the user's own ``tf.keras`` is left alone.
"""

import tf_keras as keras

__all__ = ["keras", "PlainCall"]


class PlainCall:
  """Mixin for a Keras layer whose ``call`` is plain TensorFlow (no Python
  control flow on tensor values): Keras then calls it as it is, where it
  would autograph-convert it in every trace (for a Glow's 32 conditioner
  layers, about 0.2 s of the time to the first training step)."""

  def _should_use_autograph(self):
    return False
