"""The second hostile pass over the families added last round (issue 26, part 3).

Each probe failed before its fix: a silent NaN, an error from deep inside
TensorFlow, an accepted bad argument, or an allocation with no bound. Now
each is a ValueError at the boundary that names what was wrong, or works.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfgen import models
from tfgen._keras import keras
from tfgen.autoregressive import MADE, ParallelWaveNet, Transformer, WaveNet
from tfgen.classifiers import RevNet
from tfgen.flows import Glow
from tfgen.latent import VQVAE
from tfgen.layers import ReversibleBlock


def tiny(name, **kw):
  return models.FAMILIES[name].build_tiny(models.FAMILIES, **kw)


def student(teacher=None, **kw):
  return ParallelWaveNet(teacher or WaveNet(2, 1, 4, 4, 4, num_levels=8), flow_layers=[1, 2],
                         channels=4, **kw)


IMAGES = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype(np.uint8)

CASES = [
    # Zero-length sequences: bits/dim would be 0 / 0.
    ("char_rnn bits of empty", lambda: tiny("char_rnn").bits_per_dim(np.zeros((2, 0), np.int32)),
     "at least one step"),
    ("transformer log_prob of empty", lambda: tiny("transformer").log_prob(
        np.zeros((2, 0), np.int32)), "at least one step"),
    ("wavenet log_prob of empty", lambda: tiny("wavenet").log_prob(np.zeros((2, 0), np.int32)),
     "at least one step"),
    # MADE's ensemble member.
    ("made mask 2 of 1", lambda: MADE((4, 4, 1), hidden_units=[8]).log_prob(
        np.zeros((2, 4, 4, 1)), mask=2), r"mask.*\[0, 0\]"),
    ("made mask 3 of 3", lambda: MADE((4, 4, 1), hidden_units=[8], num_masks=3).log_prob(
        np.zeros((2, 4, 4, 1)), mask=3), r"mask.*\[0, 2\]"),
    ("made mask -1", lambda: MADE((4, 4, 1), hidden_units=[8], num_masks=3).log_prob(
        np.zeros((2, 4, 4, 1)), mask=-1), r"mask.*\[0, 2\]"),
    ("made mask 1.0", lambda: MADE((4, 4, 1), hidden_units=[8], num_masks=3).log_prob(
        np.zeros((2, 4, 4, 1)), mask=1.0), "mask"),
    ("made 10**6 masks", lambda: MADE((4, 4, 1), hidden_units=[64], num_masks=10 ** 6),
     "max_mask_entries"),
    # Parallel WaveNet.
    ("pwn frame_length 2", lambda: student(frame_length=2), "frame_length"),
    ("pwn window 1", lambda: student().check_window(1), "at least 2 codes"),
    ("pwn waveform 10**9", lambda: student().waveform(1, 10 ** 9), "length"),
    ("pwn sample 256 x 10**6", lambda: student().sample(256, length=10 ** 6),
     "max_sample_elements"),
    # RevNet.
    ("revnet stages []", lambda: RevNet((8, 8, 1), stages=[], channels=4), "stages"),
    ("revnet num_levels 1", lambda: RevNet((8, 8, 1), stages=[1], channels=4, num_levels=1),
     "num_levels"),
    ("revnet predict NaN", lambda: tiny("revnet").predict(np.full((2, 8, 8, 1), np.nan),
                                                          verbose=0), "finite"),
    ("revnet predict 1000", lambda: tiny("revnet").predict(np.full((2, 8, 8, 1), 1000),
                                                           verbose=0), r"\[0, 255\]"),
    ("revnet fit without labels", lambda: tiny("revnet").fit(IMAGES, batch_size=2, verbose=0),
     "^RevNet trains on"),
    ("reversible block on int32", lambda: ReversibleBlock(
        keras.layers.Dense(2), keras.layers.Dense(2))(tf.zeros([2, 4], tf.int32)), "float"),
    # Transformer windows beyond the context.
    ("transformer fit too long", lambda: tiny("transformer").fit(
        np.zeros((4, 20), np.int32), batch_size=2, verbose=0), "^`x`: .*context_length=12"),
    # Types that were taken for something else.
    ("vqvae levels 2.0", lambda: VQVAE((8, 8, 1), levels=2.0), "levels"),
    ("glow memory_efficient 'no'", lambda: Glow((4, 4, 1), levels=1, steps_per_level=1,
                                                hidden_channels=4, memory_efficient="no"),
     "memory_efficient"),
    # Samplers bounded by what they allocate.
    ("vpn 10**9 frames", lambda: tiny("video_pixel_network").sample(1, num_frames=10 ** 9),
     "num_frames"),
    ("vpn 4096 x 10**5 frames", lambda: tiny("video_pixel_network").sample(
        4096, num_frames=10 ** 5), "num_frames"),
    ("vpn 4096 x 1000 frames", lambda: tiny("video_pixel_network", video_shape=(2, 8, 8, 1))
     .sample(4096, num_frames=1000), "max_sample_elements"),
    ("transformer kv cache", lambda: Transformer(context_length=256, num_layers=4, d_model=128,
                                                 num_heads=4).sample(4000, length=256),
     "max_sample_elements"),
]


@pytest.mark.parametrize("what, call, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_value_error(what, call, match):
  with pytest.raises(ValueError, match=match) as info:
    call()
  assert "in user code" not in str(info.value) and len(str(info.value)) < 400


def test_served_sequence_scores_refuse_zero_length_in_the_graph():
  for name in ("char_rnn", "transformer"):
    model = tiny(name)
    fn = model.serving_functions()["serving_default"]
    served = tf.function(fn.fn, input_signature=fn.inputs)
    assert np.all(np.isfinite(served(x=tf.ones([2, 5], tf.int32))["bits_per_dim"].numpy()))
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least one step"):
      served(x=tf.zeros([2, 0], tf.int32))


def test_a_class_conditional_student_distils_end_to_end():
  teacher = WaveNet(2, 1, 4, 4, 4, num_levels=8, num_classes=3)
  model = student(teacher)
  x = np.random.default_rng(1).integers(0, 8, (4, 32))
  labels = np.array([0, 1, 2, 0])
  history = model.fit(x, labels, batch_size=2, epochs=2, verbose=0)
  assert np.all(np.isfinite(history.history["loss"]))
  assert model.sample(2, length=16, seed=3, condition=[0, 2]).shape == (2, 16)
  a = model.waveform(2, 16, seed=3, condition=[0, 0]).numpy()
  b = model.waveform(2, 16, seed=3, condition=[2, 2]).numpy()
  assert np.abs(a - b).max() > 1e-6   # training reached the class's weights
  with pytest.raises(ValueError, match="conditional"):
    model.sample(2, length=16, seed=3)


def test_evaluate_and_fit_before_compile_compile_themselves():
  x = np.random.default_rng(2).integers(0, 8, (4, 16))
  result = student().evaluate(x, batch_size=2, verbose=0, return_dict=True)
  assert np.isfinite(result["kl"])
  model = tiny("made")
  model.fit(np.zeros((4, 4, 4, 1), np.int32), batch_size=2, verbose=0)
  assert model.optimizer is not None


def test_fit_takes_x_and_condition_as_one_tuple():
  model = tiny("text_to_image")
  captions = model.captions_of([0, 1, 2, 3])
  history = model.fit((IMAGES, captions), batch_size=2, epochs=1, verbose=0)
  assert np.isfinite(history.history["loss"][0])
