"""Datasets as ``tf.data`` pipelines of integer data."""

from tfgen.data.fashion import fashion_mnist, load_fashion_mnist
from tfgen.data.idx import read_idx
from tfgen.data.wav import load_wav_folder, wav_windows

__all__ = ["fashion_mnist", "load_fashion_mnist", "load_wav_folder", "read_idx", "wav_windows"]
