"""The registry of model families ``tfgen train`` knows.

A family is declared next to its model (a :class:`tfgen.family.ModelFamily`
in the model's file) and registered here with one line. Code that serves
every family (the CLI, run folders, the exporter, the benchmarks) looks a
family up here and then talks to the model only through the
``tfgen.base.GenerativeModel`` contract.

Other packages add families through the ``tfgen.families`` entry-point
group: each entry point names a ``ModelFamily`` (or a function returning
one), for example in a ``pyproject.toml``::

    [project.entry-points."tfgen.families"]
    my_flow = "my_package.my_flow:FAMILY"

They are registered when this module is first imported, so a family from
another package is found in a fresh ``tfgen sample`` process too. One that
fails to load is skipped with a warning naming it.
"""

import importlib.metadata
import logging

from tfgen.autoregressive import (char_rnn, made, multiscale_pixelcnn, nade, parallel_wavenet,
                                  pixelcnn, pixelrnn, transformer, video_pixel_network,
                                  wavenet)
from tfgen.classifiers import revnet
from tfgen.family import ModelFamily, SizeOption
from tfgen.flows import glow, maf, nice, realnvp
from tfgen.latent import code_prior, text_to_image, vqvae

FAMILIES = {}


def register(family):
  """Adds ``family`` (a :class:`ModelFamily`) under ``family.name``; returns it.

  Raises:
    ValueError: not a ModelFamily, or the name is taken by another family.
  """
  if not isinstance(family, ModelFamily):
    raise ValueError(f"register takes a tfgen.family.ModelFamily, got {family!r}.")
  if family.name in FAMILIES and FAMILIES[family.name] is not family:
    raise ValueError(f"A model family called {family.name!r} is already registered.")
  FAMILIES[family.name] = family
  return family


def unregister(name):
  """Removes the family called ``name`` (no error if there is none)."""
  FAMILIES.pop(name, None)


def family(name):
  """The :class:`ModelFamily` called ``name``; ``ValueError`` naming the choices otherwise."""
  if name not in FAMILIES:
    raise ValueError(f"Unknown model {name!r}; available: {', '.join(FAMILIES)}.")
  return FAMILIES[name]


register(glow.FAMILY)
register(realnvp.FAMILY)
register(nice.FAMILY)
register(maf.FAMILY)
register(maf.IAF_FAMILY)
register(pixelcnn.FAMILY)
register(pixelcnn.GATED_FAMILY)
register(multiscale_pixelcnn.FAMILY)
register(video_pixel_network.FAMILY)
register(made.FAMILY)
register(nade.FAMILY)
register(wavenet.FAMILY)
register(parallel_wavenet.FAMILY)
register(char_rnn.FAMILY)
register(transformer.FAMILY)
register(transformer.IMAGE_FAMILY)
register(pixelrnn.FAMILY)
register(vqvae.FAMILY)
register(code_prior.FAMILY)
register(text_to_image.FAMILY)
register(revnet.FAMILY)

#: The entry-point group other packages register families under.
ENTRY_POINT_GROUP = "tfgen.families"


def load_entry_points(group=ENTRY_POINT_GROUP):
  """Registers every family published under entry-point ``group``; returns their names."""
  names = []
  for point in importlib.metadata.entry_points(group=group):
    try:
      found = point.load()
      if callable(found) and not isinstance(found, ModelFamily):
        found = found()
      register(found)
    except Exception as e:  # another package's bug must not break tfgen
      logging.getLogger("tfgen").warning("tfgen: skipped model family %r from entry point %r: "
                                         "%s: %s", point.name, point.value, type(e).__name__, e)
      continue
    names.append(found.name)
  return names


load_entry_points()

__all__ = ["ENTRY_POINT_GROUP", "FAMILIES", "ModelFamily", "SizeOption", "family",
           "load_entry_points", "register", "unregister"]
