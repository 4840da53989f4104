"""Datasets as ``tf.data`` pipelines of integer data: ``load(name, split, batch_size)``."""

from tfgen.data.catalog import DATASETS, DatasetSpec, info, load
from tfgen.data.fashion import fashion_mnist, load_fashion_mnist
from tfgen.data.idx import read_idx
from tfgen.data.text import read_text
from tfgen.data.wav import load_wav_folder, wav_windows

__all__ = ["DATASETS", "DatasetSpec", "fashion_mnist", "info", "load", "load_fashion_mnist",
           "load_wav_folder", "read_idx", "read_text", "wav_windows"]
