"""Hostile inputs at the distribution boundary (tfgen.distributions)."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.autoregressive import PixelCNN
from tfgen.flows import MAF


@pytest.fixture(scope="module")
def pixelcnn():
  return PixelCNN((4, 4, 1), num_levels=4, filters=8, num_layers=2, num_classes=3)


@pytest.fixture(scope="module")
def maf():
  return MAF(event_shape=(3,), num_bijectors=1, hidden_units=[8], condition_shape=(2,))


def test_bad_data_is_named(pixelcnn):
  d = pixelcnn.distribution_given([0, 1])
  with pytest.raises(ValueError, match="event shape"):
    d.log_prob(np.zeros([4, 1], np.uint8))            # fewer dimensions than the event
  with pytest.raises(ValueError, match="shape"):
    d.log_prob(np.zeros([2, 5, 4, 1], np.uint8))      # the wrong event
  with pytest.raises(ValueError, match=r"\[0, 3\]"):
    d.log_prob(np.full([2, 4, 4, 1], 9, np.uint8))    # beyond num_levels
  with pytest.raises(ValueError, match=r"\[0, 3\]"):
    d.log_prob(np.full([2, 4, 4, 1], 260, np.int32))  # would wrap to 4 in uint8
  with pytest.raises(ValueError, match="whole numbers"):
    d.log_prob(np.full([2, 4, 4, 1], 0.5, np.float32))
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
    d.log_prob(np.zeros([3, 4, 4, 1], np.uint8))      # batch [3] against [2]


def test_bad_conditions_are_named(pixelcnn, maf):
  with pytest.raises(ValueError, match="integer dtype"):
    pixelcnn.distribution_given(np.array([0.5]))
  with pytest.raises(ValueError, match="values must lie"):
    pixelcnn.distribution_given([5]).log_prob(np.zeros([4, 4, 1], np.uint8))
  with pytest.raises(ValueError, match=r"shape \[\.\.\., 2\]"):
    maf.distribution_given(np.zeros([4, 3], np.float32))
  with pytest.raises(ValueError, match="finite"):
    maf.distribution_given(np.full([1, 2], np.nan, np.float32)).log_prob(np.zeros([3]))
  with pytest.raises(ValueError, match="numeric"):
    maf.distribution_given(np.array([["a", "b"]]))


def test_bad_sample_sizes_are_bounded(pixelcnn):
  d = pixelcnn.distribution_given(np.zeros([100, 100], np.int32))      # batch of 10^4
  with pytest.raises(ValueError, match="max_samples"):
    d.sample(10, seed=1)                                                 # 10^5 draws
  with pytest.raises(ValueError, match="length"):
    pixelcnn.distribution_given([0], length=5)


def test_a_traced_bad_value_fails_in_the_graph(pixelcnn):
  d = pixelcnn.distribution_given([0, 1])
  score = tf.function(lambda x: d.log_prob(x))
  with pytest.raises(tf.errors.InvalidArgumentError, match="values must lie"):
    score(tf.constant(np.full([2, 4, 4, 1], 7, np.int32)))
