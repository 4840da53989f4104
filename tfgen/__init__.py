"""tfgen: explicit-likelihood generative models for TensorFlow and Keras 2."""

__version__ = "0.1.0"


def load(path):
  """The Keras model of a run or an export: :func:`tfgen.zoo.load`."""
  from tfgen.zoo import load as _load
  return _load(path)


def pretrained(name, version=None, *, root=None):
  """A shipped model as a Keras model: :func:`tfgen.zoo.pretrained`."""
  from tfgen.zoo import pretrained as _pretrained
  return _pretrained(name, version, root=root)
