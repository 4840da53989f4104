"""Likelihood arithmetic shared by models, exports and reports: bits/dim and
the one-line summary of an evaluation.

Bits/dim is ``−log₂ p(x) / D`` for discrete data ``x`` of ``D`` dimensions,
from a log-likelihood in nats (the convention of Theis, van den Oord &
Bethge 2016, "A note on the evaluation of generative models", arXiv:1511.01844).
"""

import math

_UNITS = {"image": "image", "video": "video", "audio": "window", "text": "window",
          "table": "row"}
_DIMENSIONS = {"image": "dim", "audio": "sample", "text": "char", "table": "column"}


def bits_per_dim(log_prob, num_dims):
  """``−log₂ p(x) / D`` from a log-likelihood ``log_prob`` in nats."""
  return -log_prob / (num_dims * math.log(2.))


def describe_likelihood(result, kind="image", dimension_name=None):
  """``"1.2345 bits/dim (0.8557 nats/dim; 123.4 nats per image)"`` for an
  evaluation ``{"bits_per_dim", "loss"}`` of data of ``kind``."""
  if kind == "table":
    nats = result["bits_per_dim"] * math.log(2)
    return (f"{result['loss']:.3f} nats per row ({nats:.4f} nats/column; "
            f"{result['bits_per_dim']:.4f} bits/column)")
  unit = _UNITS.get(kind, "example")
  per = dimension_name or _DIMENSIONS.get(kind, "dim")
  bpd = result["bits_per_dim"]
  return (f"{bpd:.4f} bits/{per} ({bpd * math.log(2):.4f} nats/{per}; {result['loss']:.1f} "
          f"nats per {unit})")
