"""Moving Fashion-MNIST: Moving-MNIST-style videos (Srivastava et al. 2015) made
from the Fashion-MNIST images on this machine, since no MNIST package exists."""

import numpy as np

from tfgen.data import fashion

#: Videos per split (the training split is generated in this order, then shuffled).
NUM_VIDEOS = {"train": 10000, "test": 1000}
_SPLIT_SEED = {"train": 0, "test": 1}


def _shrink(images, item):
  """``[N, 28, 28]`` uint8 → ``[N, item, item]`` by box averaging (item divides 28)."""
  f = 28 // item
  return images.reshape(len(images), item, f, item, f).mean(axis=(2, 4)).astype(np.uint8)


def moving_video(images, index, split, frames, size, items=2):
  """Video ``index`` of ``split``: uint8 ``[frames, size, size, 1]``.

  ``items`` images drawn from ``images`` start at random positions and
  move at a random angle, 1 to 2 pixels per frame at 32×32 (2 to 4 at
  64×64), bouncing off the edges; overlapping items combine by maximum.
  Everything is drawn from a generator seeded by ``(split, index)``, so a
  video is the same on every call and machine.
  """
  rng = np.random.default_rng([_SPLIT_SEED[split], index])
  n, item = images.shape[0], images.shape[1]
  room = size - item
  video = np.zeros((frames, size, size), np.uint8)
  for _ in range(items):
    picture = images[rng.integers(n)]
    pos = rng.uniform(0, room, size=2)
    angle = rng.uniform(0, 2 * np.pi)
    vel = rng.uniform(1, 2) * size / 32 * np.array([np.sin(angle), np.cos(angle)])
    for t in range(frames):
      r, c = int(round(pos[0])), int(round(pos[1]))
      np.maximum(video[t, r:r + item, c:c + item], picture, out=video[t, r:r + item, c:c + item])
      pos = pos + vel
      for d in range(2):                                    # bounce off the walls
        if pos[d] < 0 or pos[d] > room:
          pos[d] = -pos[d] if pos[d] < 0 else 2 * room - pos[d]
          vel[d] = -vel[d]
  return video[..., None]


def moving_fashion_mnist(split, frames, size, data_dir=None, count=None):
  """A generator of the split's videos in order (``count`` of them, default
  :data:`NUM_VIDEOS`), drawn from the Fashion-MNIST images of the same split
  (28×28 items in 64×64 frames; 14×14 in 32×32)."""
  images, _ = fashion.load_fashion_mnist(split, data_dir)
  images = images[..., 0]
  if size < 64:
    images = _shrink(images, 14)
  total = NUM_VIDEOS[split] if count is None else count

  def generate():
    for i in range(total):
      yield moving_video(images, i, split, frames, size)

  return generate
