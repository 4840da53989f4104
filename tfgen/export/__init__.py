"""SavedModel export for TensorFlow Serving, and exports read back.

``tfgen.export.signatures`` (the standard signatures, built from a model's
contract) is imported by the model contract itself, so this package loads
its exporter and reader only when first asked for them.
"""

import importlib

_LAZY = {"Exported": "loaded", "version_dir": "loaded", "save": "saved_model"}

__all__ = ["Exported", "save", "version_dir"]


def __getattr__(name):
  if name not in _LAZY:
    raise AttributeError(f"module 'tfgen.export' has no attribute {name!r}")
  value = getattr(importlib.import_module(f"tfgen.export.{_LAZY[name]}"), name)
  globals()[name] = value
  return value


def __dir__():
  return sorted(list(globals()) + __all__)
