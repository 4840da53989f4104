"""Datasets as ``tf.data`` pipelines of integer data.

``load(name, split, batch_size)`` is the one way in; ``info(name)`` and
``DATASETS`` say what each dataset holds. The readers below it are public
for users with their own files.
"""

from tfgen.data.catalog import DATASETS, DatasetSpec, info, load
from tfgen.data.fashion import load_fashion_mnist
from tfgen.data.fortunes import read_fortunes
from tfgen.data.idx import read_idx
from tfgen.data.text import read_text
from tfgen.data.wav import load_wav_folder

__all__ = ["DATASETS", "DatasetSpec", "info", "load", "load_fashion_mnist", "load_wav_folder", "read_fortunes",
           "read_idx", "read_text"]
