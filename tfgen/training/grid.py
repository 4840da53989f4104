"""Sample grids: a batch of images tiled into one picture."""

import math

import numpy as np
import tensorflow as tf


def image_grid(images, cols=None, pad=1):
  """Tiles ``[N, H, W, C]`` uint8 images into one ``[rows·(H+pad), ...]`` image."""
  images = np.asarray(images)
  if images.ndim != 4:
    raise ValueError(f"`images` must have shape [N, H, W, C], got {images.shape}.")
  n, h, w, c = images.shape
  cols = cols or int(math.ceil(math.sqrt(n)))
  rows = int(math.ceil(n / cols))
  grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, c), np.uint8)
  for i, img in enumerate(images):
    r, q = divmod(i, cols)
    grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = img
  return grid


def write_png(path, image):
  """Writes a ``[H, W, C]`` uint8 image as PNG."""
  tf.io.write_file(path, tf.io.encode_png(tf.convert_to_tensor(image, tf.uint8)))
