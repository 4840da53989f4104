"""What a model family tells the command line: its name, paper, data and size flags.

Each model file declares its :class:`ModelFamily` next to its class, and
``tfgen.models`` registers it (or another package does, through the
``tfgen.families`` entry-point group). Nothing here knows any family by name.
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
    model: the model class, a ``tfgen.base.GenerativeModel`` subclass; it
      says which data it takes (``DATA_KINDS``) and how it is built from a
      dataset (``from_dataset(spec, **sizes)``) and from a config.
    paper: the reference.
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
    tiny: constructor arguments (data shape included) of the family's
      smallest useful model, which the contract's tests build for every
      registered family (:meth:`build_tiny`); stages in ``builds_on`` are
      their own families' tiny models.
  """
  name: str
  model: type
  paper: str
  default_data: str
  demo: dict
  sizes: tuple = ()
  options: dict = dataclasses.field(default_factory=dict)
  builds_on: dict = dataclasses.field(default_factory=dict)
  tiny: dict = dataclasses.field(default_factory=dict)

  @property
  def data_kinds(self):
    """Dataset kinds it models: the model's ``DATA_KINDS``."""
    return tuple(self.model.DATA_KINDS)

  def build(self, spec, sizes=None, stages=None):
    """A new model for dataset ``spec`` (a ``tfgen.data.DatasetSpec``) at the
    demo size, overridden by ``sizes``, on the trained models ``stages``
    (``{argument: model}``, one per ``builds_on`` entry). ValueError if the
    data do not fit (the model checks) or a stage is missing."""
    stages = dict(stages or {})
    missing = [arg for arg in self.builds_on if arg not in stages]
    if missing:
      raise ValueError(f"{self.name} is built on a trained "
                       f"{self.builds_on[missing[0]]} run: pass --{missing[0]} RUN.")
    return self.model.from_dataset(spec, **{**self.demo, **(sizes or {}), **self.options,
                                            **stages})

  def build_tiny(self, registry=None, **overrides):
    """The family's tiny model (``tiny``, then ``options``, then ``overrides``).
    ``registry`` (``{name: ModelFamily}``) supplies the ``builds_on`` families."""
    stages = {}
    for arg, stage in self.builds_on.items():
      if arg not in overrides:
        if registry is None or stage not in registry:
          raise ValueError(f"{self.name} is built on {stage}: pass `registry` or `{arg}=`.")
        stages[arg] = registry[stage].build_tiny(registry)
    return self.model(**{**self.tiny, **self.options, **stages, **overrides})

  def from_config(self, config):
    """The model a run saved with ``model.get_config()``."""
    return self.model.from_config(config)
