"""Tables of numbers: ``.csv`` (with a header row), ``.npy`` and ``.npz``."""

import csv
import dataclasses
import math
import os
import zlib

import numpy as np

#: Largest table ``read_table`` loads (cells): a bigger file is refused
#: before it is parsed into memory.
MAX_CELLS = 1 << 28

EXTENSIONS = (".csv", ".npy", ".npz")


@dataclasses.dataclass(frozen=True)
class Table:
  """The rows of a table file and what they are.

  Attributes:
    values: float64 ``[rows, columns]``, every cell finite.
    columns: the column names (``c0``, ``c1``, ... for ``.npy`` / ``.npz``).
    num_levels: ``K`` when every cell is a whole number in ``[0, K)`` with
      ``K ≤ 256`` (binary or small-integer columns, for MADE and NADE);
      None for real-valued tables (vector flows).
  """
  values: np.ndarray
  columns: tuple
  num_levels: int = None


def read_table(path, columns=None):
  """Reads ``path`` (``.csv``, ``.npy`` or ``.npz``) into a :class:`Table`.

  A CSV has a header row and one number per cell; ``columns`` (a list of
  header names, or a comma-separated string) keeps those columns, in that
  order. An ``.npy`` holds one 2-D array; an ``.npz`` one 2-D array (or
  several, of which one is named ``data`` or ``x``).

  Raises:
    ValueError: naming the row and column of a NaN, infinite or non-numeric
      cell, a ragged row, the name of a constant column (its density would
      be infinite), an unknown column, an empty table or a bad file.
  """
  path = os.fspath(path)
  ext = os.path.splitext(path)[1].lower()
  if ext not in EXTENSIONS:
    raise ValueError(f"A table must be a {', '.join(EXTENSIONS)} file; got {path!r}.")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Table file {path!r} does not exist.")
  if ext == ".csv":
    values, names = _read_csv(path, _column_list(columns))
  else:
    values, names = _read_array(path, ext)
    if columns is not None:
      wanted = _column_list(columns)
      values, names = _select(values, names, wanted)
  _check_cells(values, names, header_rows=1 if ext == ".csv" else 0)
  return Table(values, tuple(names), _levels(values))


def split_rows(n, split):
  """Row indices of ``split``: a row is a test row when a hash of its index
  falls in the last tenth, so adding rows at the end never moves a row
  between splits."""
  test = np.array([zlib.crc32(str(i).encode()) % 10 == 9 for i in range(n)], bool)
  if test.all() or not test.any():
    test = np.arange(n) % 10 == 9
  return np.flatnonzero(test if split == "test" else ~test)


def write_csv(path, values, columns):
  """Writes rows ``values`` with header ``columns``."""
  with open(path, "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f)
    writer.writerow(columns)
    for row in np.asarray(values):
      writer.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else int(v)
                       for v in row])


def _column_list(columns):
  if columns is None:
    return None
  names = columns.split(",") if isinstance(columns, str) else list(columns)
  names = [str(n).strip() for n in names]
  if not names or not all(names):
    raise ValueError(f"`columns` must name at least one column, got {columns!r}.")
  if len(set(names)) != len(names):
    raise ValueError(f"`columns` names a column twice: {columns!r}.")
  return names


def _indices(names, wanted):
  """Positions of ``wanted`` among ``names`` (all of them when None)."""
  if wanted is None:
    return list(range(len(names)))
  missing = [w for w in wanted if w not in names]
  if missing:
    raise ValueError(f"No column {missing[0]!r} in the table; its columns are: "
                     f"{', '.join(names[:20])}{' ...' if len(names) > 20 else ''}.")
  return [names.index(w) for w in wanted]


def _select(values, names, wanted):
  return values[:, _indices(names, wanted)], list(wanted)


def _read_csv(path, wanted):
  if os.path.getsize(path) > 16 * MAX_CELLS:
    raise ValueError(f"{path!r} is larger than tfgen reads as a table ({16 * MAX_CELLS:,} "
                     "bytes).")
  with open(path, newline="", encoding="utf-8-sig") as f:
    try:
      rows = list(csv.reader(f))
    except (csv.Error, UnicodeDecodeError) as e:
      raise ValueError(f"{path!r} is not a readable CSV file ({e}).") from None
  rows = [r for r in rows if r]      # blank lines are not rows
  if len(rows) < 2:
    raise ValueError(f"{path!r} has no data rows (a header row, then one row per example).")
  header = [h.strip() for h in rows[0]]
  if len(set(header)) != len(header) or not all(header):
    raise ValueError(f"{path!r}: the header row must name every column once, got {header!r}.")
  index = _indices(header, wanted)
  values = np.empty((len(rows) - 1, len(index)))
  for r, row in enumerate(rows[1:]):
    if len(row) != len(header):
      raise ValueError(f"{path!r} line {r + 2}: {len(row)} cells, but the header has "
                       f"{len(header)} columns (a ragged row).")
    for j, c in enumerate(index):
      try:
        values[r, j] = float(row[c])
      except ValueError:
        raise ValueError(f"{path!r} line {r + 2}, column {header[c]!r}: {row[c]!r} is not "
                         "a number.") from None
  return values, [header[c] for c in index]


def _read_array(path, ext):
  keys = key = None
  try:
    if ext == ".npy":
      array = np.load(path, mmap_mode="r", allow_pickle=False)
    else:
      with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        key = keys[0] if len(keys) == 1 else next((k for k in ("data", "x") if k in keys),
                                                  None)
        array = None if key is None else archive[key]
  except (OSError, EOFError, ValueError) as e:   # ValueError: not numpy, or pickled objects
    raise ValueError(f"{path!r} is not a readable {ext} file of numbers "
                     f"({' '.join(str(e).split())[:160]}).") from None
  if array is None:
    raise ValueError(f"{path!r} holds arrays {keys}; name the table's array 'data' or 'x', "
                     "or save one array.")
  if array.ndim != 2 or 0 in array.shape:
    raise ValueError(f"{path!r} must hold a 2-D array [rows, columns], got shape "
                     f"{list(array.shape)}.")
  if array.size > MAX_CELLS:
    raise ValueError(f"{path!r} has {array.size:,} cells, more than tfgen reads as a table "
                     f"({MAX_CELLS:,}).")
  if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
    raise ValueError(f"{path!r} holds {array.dtype} values; a table holds numbers.")
  return np.asarray(array, np.float64), [f"c{j}" for j in range(array.shape[1])]


def _check_cells(values, names, header_rows):
  bad = np.argwhere(~np.isfinite(values))
  if len(bad):
    r, c = bad[0]
    where = f"line {r + 1 + header_rows}" if header_rows else f"row {r}"
    raise ValueError(f"{where}, column {names[c]!r}: {values[r, c]} is not a finite number; "
                     "remove or fill such cells first.")
  if len(values) < 2:
    raise ValueError(f"a table needs at least 2 rows, got {len(values)}.")
  constant = [n for n, lo, hi in zip(names, values.min(0), values.max(0)) if lo == hi]
  if constant:
    raise ValueError(f"column {constant[0]!r} is constant ({values[0, names.index(constant[0])]:g} "
                     "in every row): its density is infinite; drop it (--columns).")


def _levels(values):
  whole = np.all(values == np.round(values)) and values.min() >= 0
  top = values.max()
  if whole and top < 256:
    return max(2, int(math.ceil(top + 1)))
  return None
