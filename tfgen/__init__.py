"""tfgen: explicit-likelihood generative models for TensorFlow and Keras 2."""

__version__ = "0.1.0"
