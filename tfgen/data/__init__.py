"""Datasets as ``tf.data`` pipelines of integer data."""

from tfgen.data.fashion import fashion_mnist, load_fashion_mnist
from tfgen.data.idx import read_idx

__all__ = ["fashion_mnist", "load_fashion_mnist", "read_idx"]
