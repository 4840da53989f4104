"""The model families tfgen trains from the command line, with their papers and demo sizes."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class SizeOption:
  """A command-line size flag: ``--flag`` sets constructor argument ``arg``."""
  flag: str
  arg: str
  type: type
  help: str


@dataclasses.dataclass(frozen=True)
class ModelFamily:
  """One trainable family.

  Attributes:
    name: as in ``tfgen train NAME``.
    class_name: the ``tfgen`` class.
    paper: the reference.
    data_kinds: dataset kinds it models (``'image'``, ``'audio'``, ``'text'``).
    default_data: dataset used when none is named.
    demo: constructor size arguments of the demo configuration (a few
      minutes on 2 CPU cores).
    sizes: the size flags it accepts.
  """
  name: str
  class_name: str
  paper: str
  data_kinds: tuple
  default_data: str
  demo: dict
  sizes: tuple

  def cls(self):
    from tfgen import autoregressive, flows
    return getattr(flows, self.class_name, None) or getattr(autoregressive, self.class_name)

  def build(self, spec, size):
    """A new model for dataset ``spec`` (a ``tfgen.data.DatasetSpec``) with
    ``size`` overriding the demo size arguments."""
    if spec.kind not in self.data_kinds:
      raise ValueError(f"{self.name} models {'/'.join(self.data_kinds)} data; dataset "
                       f"{spec.name!r} is {spec.kind}.")
    kwargs = dict(self.demo, **size)
    if self.class_name in ("Glow", "RealNVP", "NICE"):
      if spec.num_levels != 256:
        raise ValueError(f"{self.name} models 8-bit images; {spec.name!r} has "
                         f"{spec.num_levels} levels (use pixelcnn, gated_pixelcnn or made).")
      return self.cls()(spec.shape, **kwargs)
    if self.class_name == "PixelCNN":
      return self.cls()(spec.shape, num_levels=spec.num_levels, gated=self.name != "pixelcnn",
                        **kwargs)
    if self.class_name == "MADE":
      return self.cls()(int(np.prod(spec.shape)), num_levels=spec.num_levels, **kwargs)
    kwargs.setdefault("dilation_channels", kwargs["residual_channels"])
    if "residual_channels" in size:
      kwargs["dilation_channels"] = size["residual_channels"]
    # Leave the first receptive field out of the loss: those steps see zero padding.
    receptive_field = kwargs["num_stacks"] * (2 ** kwargs["num_layers_per_stack"] - 1) + 1
    return self.cls()(num_levels=spec.num_levels, loss_start=receptive_field, **kwargs)

  def to_model_input(self, x):
    """Dataset batches → what the model takes (MADE takes flat vectors)."""
    if self.class_name == "MADE":
      import tensorflow as tf
      return tf.reshape(tf.cast(x, tf.int32), [tf.shape(x)[0], -1])
    return x

  def sample(self, model, n, temperature=1.0, seed=(0, 0), length=None, shape=None):
    """``n`` samples as numpy: images ``[n, H, W, C]`` or sequences ``[n, length]``."""
    seed = list(seed)
    if self.class_name == "WaveNet":
      return model.generate(length, batch=n, seed=seed, temperature=temperature).numpy()
    out = model.sample(n, seed=seed, temperature=temperature).numpy()
    return out.reshape((n,) + tuple(shape)) if self.class_name == "MADE" else out


_O = SizeOption
_FLOW = (_O("levels", "levels", int, "multi-scale levels"),
         _O("steps-per-level", "steps_per_level", int, "flow steps per level (Glow)"),
         _O("hidden-channels", "hidden_channels", int, "coupling network width"))
_PIXEL = (_O("filters", "filters", int, "feature maps per layer"),
          _O("num-layers", "num_layers", int, "masked convolution layers / gated blocks"))

FAMILIES = {f.name: f for f in [
    ModelFamily("glow", "Glow", "Kingma & Dhariwal 2018, Glow: Generative Flow with Invertible "
                "1x1 Convolutions", ("image",), "fashion_mnist",
                dict(levels=2, steps_per_level=8, hidden_channels=64), _FLOW),
    ModelFamily("realnvp", "RealNVP", "Dinh, Sohl-Dickstein & Bengio 2017, Density estimation "
                "using Real NVP", ("image",), "fashion_mnist",
                dict(levels=2, hidden_channels=64), (_FLOW[0], _FLOW[2])),
    ModelFamily("nice", "NICE", "Dinh, Krueger & Bengio 2015, NICE: Non-linear Independent "
                "Components Estimation", ("image",), "fashion_mnist",
                dict(num_couplings=4, hidden_units=256, num_hidden_layers=3),
                (_O("num-couplings", "num_couplings", int, "additive coupling layers"),
                 _O("hidden-units", "hidden_units", int, "coupling MLP width"))),
    ModelFamily("pixelcnn", "PixelCNN", "van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel "
                "Recurrent Neural Networks", ("image",), "binarized_fashion_mnist",
                dict(filters=32, num_layers=6), _PIXEL),
    ModelFamily("gated_pixelcnn", "PixelCNN", "van den Oord et al. 2016, Conditional Image "
                "Generation with PixelCNN Decoders", ("image",), "binarized_fashion_mnist",
                dict(filters=32, num_layers=6), _PIXEL),
    ModelFamily("made", "MADE", "Germain, Gregor, Murray & Larochelle 2015, MADE: Masked "
                "Autoencoder for Distribution Estimation", ("image",), "binarized_fashion_mnist",
                dict(hidden_units=[500]),
                (_O("hidden-units", "hidden_units", lambda s: [int(u) for u in s.split(",")],
                    "comma-separated hidden layer widths (MADE)"),)),
    ModelFamily("wavenet", "WaveNet", "van den Oord et al. 2016, WaveNet: A Generative Model "
                "for Raw Audio", ("audio", "text"), "speech",
                dict(num_layers_per_stack=8, num_stacks=2, residual_channels=32,
                     dilation_channels=32, skip_channels=64),
                (_O("layers-per-stack", "num_layers_per_stack", int,
                    "dilated layers per stack (dilations 1..2^(n-1))"),
                 _O("stacks", "num_stacks", int, "stacks"),
                 _O("channels", "residual_channels", int, "residual and dilation channels"),
                 _O("skip-channels", "skip_channels", int, "skip channels"))),
]}


def family(name):
  """The :class:`ModelFamily` called ``name``; ``ValueError`` naming the choices otherwise."""
  if name not in FAMILIES:
    raise ValueError(f"Unknown model {name!r}; available: {', '.join(FAMILIES)}.")
  return FAMILIES[name]
