"""CodebookUsage: usage and perplexity over everything seen, checked by hand."""

import math

import numpy as np
import pytest

from tfgen.latent import CodebookUsage


def test_usage_and_perplexity_by_formula():
  usage, perplexity = CodebookUsage(4, "usage"), CodebookUsage(4, "perplexity")
  for m in (usage, perplexity):
    m.update_state(np.array([[0, 0], [1, 3]]))
  assert usage.result().numpy() == pytest.approx(0.75)
  p = np.array([0.5, 0.25, 0.25])
  assert perplexity.result().numpy() == pytest.approx(math.exp(-(p * np.log(p)).sum()), rel=1e-5)


def test_counts_add_up_over_batches_unlike_a_mean_of_batches():
  m = CodebookUsage(4, "usage")
  m.update_state(np.array([[0, 0]]))
  m.update_state(np.array([[1, 2]]))
  assert m.result().numpy() == pytest.approx(0.75)  # a mean of batch usages would give 0.375
  m.reset_state()
  assert m.result().numpy() == 0.0


def test_sample_weight_drops_examples():
  m = CodebookUsage(4, "perplexity")
  m.update_state(np.array([[0, 0], [1, 3]]), sample_weight=np.array([1.0, 0.0]))
  assert m.result().numpy() == pytest.approx(1.0)


def test_bad_arguments():
  with pytest.raises(ValueError, match="num_codes"):
    CodebookUsage(0)
  with pytest.raises(ValueError, match="statistic"):
    CodebookUsage(4, "entropy")
