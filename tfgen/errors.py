"""The one error type for a user's mistake, as opposed to a bug in tfgen.

:class:`UserError` is a ``ValueError``: a bad argument, a missing or damaged
run folder or data file, a run that cannot be resumed as asked. The run
folder, :func:`tfgen.runs.train_run` and the CLI raise it; the CLI prints it
as one line and exits with status 2. Anything else that escapes is a bug.
"""

import contextlib


class UserError(ValueError):
  """A mistake in what the user gave; its message says what and how to fix it."""


@contextlib.contextmanager
def user_input(prefix=None):
  """Turns a ``ValueError`` / ``FileNotFoundError`` / ``NotADirectoryError``
  raised inside the block (by a check on what the user gave) into a
  :class:`UserError`, its message on one line, after ``prefix`` if given."""
  try:
    yield
  except UserError:
    raise
  except (ValueError, FileNotFoundError, NotADirectoryError) as e:
    message = " ".join(str(e).split())
    raise UserError(f"{prefix}: {message}" if prefix else message) from None
