"""What a model family tells the command line: its name, paper, data and size flags.

Each model file declares its :class:`ModelFamily` next to its class, and
``tfgen.models`` registers it. Nothing here knows any family by name.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class SizeOption:
  """A command-line size flag: ``--flag`` sets constructor argument ``arg``.

  ``type`` converts the flag's text (``int``, or e.g. a comma-separated
  list parser); every resulting number must be positive.
  """
  flag: str
  arg: str
  type: object
  help: str


def int_list(text):
  """``'64,64'`` → ``[64, 64]`` (for list-valued size flags)."""
  return [int(u) for u in text.split(",")]


@dataclasses.dataclass(frozen=True)
class ModelFamily:
  """One family ``tfgen train NAME`` can train.

  Attributes:
    name: as in ``tfgen train NAME``.
    model: the model class, a ``tfgen.base.LikelihoodModel`` subclass with
      ``from_dataset(spec, **sizes)`` and ``from_config(config)``.
    paper: the reference.
    data_kinds: dataset kinds it models (``'image'``, ``'audio'``, ``'text'``).
    default_data: the dataset used when none is named.
    demo: constructor size arguments of the demo size (a few minutes on 2
      CPU cores); size flags override them.
    sizes: the :class:`SizeOption` flags it accepts.
    options: fixed constructor arguments that make this family (for
      example ``gated=True``); not overridable by flags.
    builds_on: ``{argument: family name}``: trained runs of other families
      this one is built on (a two-stage model's first stage). ``tfgen train``
      takes each as ``--ARGUMENT RUN``, loads that run's model and passes it
      to ``from_dataset`` as ``ARGUMENT=model``; the data default to that
      run's.
  """
  name: str
  model: type
  paper: str
  data_kinds: tuple
  default_data: str
  demo: dict
  sizes: tuple = ()
  options: dict = dataclasses.field(default_factory=dict)
  builds_on: dict = dataclasses.field(default_factory=dict)

  def build(self, spec, sizes=None, stages=None):
    """A new model for dataset ``spec`` (a ``tfgen.data.DatasetSpec``) at the
    demo size, overridden by ``sizes``, on the trained models ``stages``
    (``{argument: model}``, one per ``builds_on`` entry). ValueError if the
    data do not fit or a stage is missing."""
    if spec.kind not in self.data_kinds:
      raise ValueError(f"{self.name} models {'/'.join(self.data_kinds)} data; dataset "
                       f"{spec.name!r} is {spec.kind}.")
    stages = dict(stages or {})
    missing = [arg for arg in self.builds_on if arg not in stages]
    if missing:
      raise ValueError(f"{self.name} is built on a trained "
                       f"{self.builds_on[missing[0]]} run: pass --{missing[0]} RUN.")
    return self.model.from_dataset(spec, **{**self.demo, **(sizes or {}), **self.options,
                                            **stages})

  def from_config(self, config):
    """The model a run saved with ``model.get_config()``."""
    return self.model.from_config(config)
