"""Deprecated keyword names that still work for one release, with a warning."""

import warnings

#: The default of a deprecated keyword: "the caller did not pass it".
MISSING = object()


def deprecated_alias(new_value, old_value, old, new, owner):
  """Returns the value of keyword ``new``, taking a deprecated ``old`` one.

  ``old_value`` is ``MISSING`` when the caller did not pass ``old``.
  Passing both is an error; passing ``old`` warns (DeprecationWarning).
  """
  if old_value is MISSING:
    return new_value
  if new_value is not None:
    raise ValueError(f"{owner}: pass `{new}` only; `{old}` is its deprecated name.")
  warnings.warn(f"{owner}: `{old}=` is deprecated and will be removed in tfgen 0.3; "
                f"use `{new}=`.", DeprecationWarning, stacklevel=3)
  return old_value
