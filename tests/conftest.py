import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfgen import data  # noqa: E402


# Tests that each took 5.6 s or more in the default suite on the CI machine
# (2 cores, a 121 GFLOP/s float32 matmul; 2026-12-07), where the suite took
# 10:45 against its 6-minute budget: whole CLI runs, fresh processes,
# exports and brute-force checks at their smallest useful size. They run in
# the slow tier (``pytest -m slow``, which CI runs after the default suite).
SLOW_TIER = frozenset([
    'tests/autoregressive/test_char_rnn.py::test_export_loads_with_tensorflow_only',
    'tests/autoregressive/test_mixed_precision.py::test_wavenet_bfloat16_log_prob_is_close_and_generation_follows_its_logits',
    'tests/autoregressive/test_parallel_wavenet.py::test_student_is_causal_and_its_log_det_matches_the_jacobian',
    'tests/autoregressive/test_pixelcnn.py::test_log_prob_is_the_sum_of_conditionals_computed_one_at_a_time[gated_unet]',
    'tests/autoregressive/test_pixelcnn_unet.py::test_cached_and_naive_keep_a_prefix_alike',
    'tests/autoregressive/test_pixelcnn_unet.py::test_cached_sampling_equals_naive[shape0-2-kw0]',
    'tests/autoregressive/test_pixelcnn_unet.py::test_checkpoint_round_trip_and_from_config',
    'tests/autoregressive/test_transformer.py::test_cached_sampling_equals_naive[dense]',
    'tests/autoregressive/test_transformer.py::test_cached_sampling_equals_naive[fixed]',
    'tests/autoregressive/test_transformer.py::test_cached_sampling_equals_naive[strided]',
    'tests/bijectors/test_reversible_chain.py::test_memory_efficient_glow_matches_the_default_path[True-3]',
    'tests/bijectors/test_reversible_chain.py::test_memory_efficient_glow_matches_the_default_path[True-None]',
    'tests/bijectors/test_reversible_chain.py::test_memory_efficient_realnvp_and_nice_match_the_default_path[realnvp]',
    'tests/classifiers/test_revnet.py::test_served_probabilities_match',
    'tests/compression/test_cli.py::test_images_from_folders_and_idx_files',
    'tests/compression/test_cli.py::test_text_round_trips_through_the_run_and_its_export',
    'tests/compression/test_cli.py::test_wav_is_lossless_on_the_mu_law_signal',
    'tests/export/test_autoregressive_export.py::test_fresh_process_log_prob_and_samples_match[made]',
    'tests/export/test_latent_export.py::test_served_prompts_are_checked_in_the_graph',
    'tests/export/test_latent_export.py::test_served_two_stage_model_matches_python[code_prior]',
    'tests/export/test_latent_export.py::test_served_two_stage_model_matches_python[text_to_image]',
    'tests/export/test_loaded.py::test_the_newest_version_is_taken_and_behaves_as_the_model',
    'tests/export/test_saved_model.py::test_fresh_process_imports_only_tensorflow_and_matches',
    'tests/export/test_saved_model.py::test_layout_versions_and_no_overwrite',
    'tests/flows/test_maf.py::test_log_dets_match_brute_force_jacobians_both_ways[2-iaf]',
    'tests/flows/test_maf.py::test_log_dets_match_brute_force_jacobians_both_ways[2-maf]',
    'tests/flows/test_maf.py::test_log_dets_match_brute_force_jacobians_both_ways[None-iaf]',
    'tests/flows/test_maf.py::test_log_dets_match_brute_force_jacobians_both_ways[None-maf]',
    'tests/flows/test_mixed_precision.py::test_mixed_float16_fit_uses_loss_scaling_and_stays_finite',
    'tests/flows/test_models.py::test_train_on_batch_after_compiling_another_optimizer_keeps_its_guard',
    'tests/hostile/test_api.py::test_fit_evaluate_predict_on_a_traced_model_raise_the_same_value_error[bad0-\\\\[0, 3\\\\]]',
    'tests/hostile/test_cli.py::test_a_run_that_met_a_non_finite_step_ships_nothing',
    'tests/hostile/test_cli.py::test_filesystem_mistakes',
    'tests/hostile/test_cli.py::test_sample_length_beyond_the_bound',
    'tests/hostile/test_second_pass.py::test_fit_takes_x_and_condition_as_one_tuple',
    'tests/hostile/test_second_pass.py::test_served_sequence_scores_refuse_zero_length_in_the_graph',
    'tests/hostile/test_serving.py::test_glow_requests[x 256]',
    'tests/latent/test_code_prior.py::test_cached_sampling_equals_naive_and_decodes_the_sampled_codes[1-pixelcnn-None]',
    'tests/latent/test_code_prior.py::test_cached_sampling_equals_naive_and_decodes_the_sampled_codes[2-pixelcnn-None]',
    'tests/latent/test_text_to_image.py::test_cached_sampling_equals_naive_and_prompts_matter',
    'tests/layers/test_gated_unet.py::test_the_cache_gives_the_features_of_the_whole_network[shape1-2-2-0-4]',
    'tests/layers/test_vector_quantizer.py::test_replicas_keep_identical_codebooks',
    'tests/test_cli.py::test_a_conditional_run_samples_each_named_class_and_reports_per_class',
    'tests/test_cli.py::test_char_rnn_on_text_samples_with_a_prime',
    'tests/test_cli.py::test_every_command_has_help',
    'tests/test_cli.py::test_image_run_train_sample_evaluate_export_resume',
    'tests/test_cli.py::test_new_families_train_from_the_command_line',
    'tests/test_cli.py::test_startup_prints_no_tensorflow_noise[3]',
    'tests/test_cli.py::test_startup_prints_no_tensorflow_noise[None]',
    'tests/test_cli.py::test_transformers_train_sample_and_export[image_transformer-size1]',
    'tests/test_cli.py::test_transformers_train_sample_and_export[transformer-size0]',
    'tests/test_distributions.py::test_shapes_seeds_and_batch_independence[text_to_image]',
    'tests/test_distributions.py::test_shapes_seeds_and_batch_independence[transformer]',
    'tests/test_models.py::test_a_family_from_another_package_is_found_in_a_fresh_process',
    'tests/test_saved_models.py::test_sampling_the_shipped_glow_from_the_command_line',
    'tests/training/test_mirrored.py::test_actnorm_init_is_reduced_across_replicas_and_training_matches_one_device',
    'tests/training/test_xla_and_mixed_precision.py::test_training_under_xla_matches_the_uncompiled_step[gated_pixelcnn]',
    'tests/training/test_xla_and_mixed_precision.py::test_training_under_xla_matches_the_uncompiled_step[transformer]',
    'tests/training/test_xla_and_mixed_precision.py::test_training_under_xla_matches_the_uncompiled_step[vqvae]',
])


@pytest.hookimpl(tryfirst=True)   # before ``-m "not slow"`` deselects
def pytest_collection_modifyitems(config, items):
  for item in items:
    if item.nodeid in SLOW_TIER:
      item.add_marker(pytest.mark.slow)


def brute_force_log_det(fn, x):
  """log|det ∂fn(x)/∂x| per example, from the full Jacobian (float64)."""
  x = tf.constant(np.asarray(x))  # a new tensor: never a cached bijector input
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = fn(x)
  jac = tape.batch_jacobian(y, x)
  b = x.shape[0]
  d_in = int(np.prod(x.shape[1:]))
  d_out = int(np.prod(y.shape[1:]))
  assert d_in == d_out, (x.shape, y.shape)
  jac = tf.cast(tf.reshape(jac, [b, d_out, d_in]), tf.float64)
  return tf.linalg.slogdet(jac)[1].numpy()


def perturb(module, scale=0.2, seed=0):
  """Sets every trainable variable to small random values, so zero-initialised
  layers (which make couplings the identity) cannot hide bugs."""
  rng = np.random.default_rng(seed)
  for v in module.trainable_variables:
    v.assign(rng.normal(scale=scale, size=v.shape).astype(v.dtype.as_numpy_dtype))
  for layer in module.submodules:
    # Masks that TFP applies as kernel constraints (MADE) stay applied.
    constraint = getattr(layer, "kernel_constraint", None)
    if constraint is not None and getattr(layer, "kernel", None) is not None:
      layer.kernel.assign(constraint(layer.kernel))


def fresh(t):
  """A copy that defeats TFP's bijector cache (it keys on tensor identity)."""
  return tf.constant(np.asarray(t))


@pytest.fixture(scope="session")
def fmnist_available():
  try:
    data.load("fashion_mnist", "test", 8, take=8)
  except FileNotFoundError as e:
    pytest.skip(f"Fashion-MNIST not installed: {e}")
  return True


@pytest.fixture(scope="session")
def fortunes_available():
  try:
    data.load("fortunes", "test", 8, window=64)
  except FileNotFoundError as e:
    pytest.skip(f"fortunes not installed: {e}")
  return True


@pytest.fixture
def policy():
  """``policy(name)`` sets the global Keras precision policy for one test;
  float32 is restored after it."""
  from tfgen._keras import keras

  def set_policy(name):
    keras.mixed_precision.set_global_policy(name)
  yield set_policy
  keras.mixed_precision.set_global_policy("float32")


def fortunes_bits_before_after(model, lr, steps=150, window=96):
  """Held-out fortunes bits/char of ``model`` before and after ``steps`` of training."""
  from tfgen.training import default_optimizer
  model.compile(default_optimizer(lr))
  train = data.load("fortunes", "train", 32, window=window, seed=0)
  test = data.load("fortunes", "test", 64, window=window).take(4)
  before = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0)
  return before, model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]


_REPORT = """
import json as _json, sys as _sys
result["mods"] = sorted({k.split(".")[0] for k in _sys.modules}
                        & {"tfgen", "tf_keras", "tensorflow_probability"})
print(_json.dumps(result))
"""


def run_tensorflow_only(script):
  """Runs ``script`` (which sets a JSON-able dict ``result``) in a fresh Python
  process and returns ``result``, plus ``result["mods"]``: which of tfgen,
  tf_keras and TFP that process imported (exports must need none)."""
  import json
  import os
  import subprocess
  import sys
  run = subprocess.run([sys.executable, "-c", script + _REPORT], capture_output=True, text=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  return json.loads(run.stdout.strip().splitlines()[-1])
