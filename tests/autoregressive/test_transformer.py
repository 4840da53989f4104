"""Transformer and ImageTransformer: connectivity of every attention pattern by
gradients (one and two layers), O(n·√n) sparse graphs, cached = naive sampling,
the chain rule against the key/value-cached step, bad input, export, learning."""

import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import fortunes_bits_before_after, run_tensorflow_only
from tfgen import export
from tfgen._keras import keras
from tfgen.autoregressive import ImageTransformer, Transformer
from tfgen.layers.sparse_attention import allowed, causal_attention

PATTERNS = ["dense", "strided", "fixed"]


def _model(attention="dense", layers=2, scale=0.3, **kw):
  kw = dict(dict(num_levels=16, context_length=20, d_model=16, num_heads=4), **kw)
  if attention != "dense":
    kw.setdefault("block_size", 4)
  model = Transformer(num_layers=layers, attention=attention, **kw)
  rng = np.random.default_rng(0)
  for v in model.trainable_variables:
    v.assign(rng.normal(scale=scale, size=v.shape).astype(np.float32))
  return model


def _pattern(attention, n, block=4):
  """The allowed set as a boolean [n, n] matrix (query t, key j)."""
  t, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
  t, j = tf.constant(t), tf.constant(j)
  if attention == "dense":
    return (j <= t).numpy()
  return (allowed(attention, t, j, block) | allowed(attention, t, j, block, second_half=True)
          ).numpy()


def _dependence(model, n=20):
  h = tf.Variable(np.random.default_rng(1).normal(size=(1, n, model.d_model)).astype(np.float32))
  with tf.GradientTape(persistent=True) as tape:
    out = model.logits_from_embedded(h)
    rows = [tf.reduce_sum(out[0, t]) for t in range(n)]
  return np.stack([np.abs(tape.gradient(r, h).numpy()[0]).sum(-1) > 0 for r in rows])


@pytest.mark.parametrize("attention", PATTERNS)
def test_each_output_sees_exactly_its_pattern_after_one_and_two_layers(attention):
  one = _pattern(attention, 20)
  two = (one.astype(int) @ one.astype(int)) > 0
  np.testing.assert_array_equal(_dependence(_model(attention, layers=1)), one)
  np.testing.assert_array_equal(_dependence(_model(attention, layers=2)), two)
  assert np.all(np.triu(two, 1) == 0)                 # never the future
  if attention != "dense":
    assert np.array_equal(two, np.tril(np.ones((20, 20), bool)))   # two layers reach everything
    assert one.sum() < np.tril(np.ones((20, 20))).sum()            # one layer is sparse


@pytest.mark.parametrize("attention", PATTERNS)
def test_no_logit_depends_on_its_own_or_a_later_token(attention):
  model = _model(attention)
  x = np.random.default_rng(2).integers(0, 16, size=(1, 20))
  base = model.conditionals(x).distribution.logits.numpy()
  for s in (0, 7, 19):
    y = x.copy()
    y[0, s] = (y[0, s] + 3) % 16
    changed = np.abs(model.conditionals(y).distribution.logits.numpy() - base).max(-1)[0]
    assert np.all(changed[:s + 1] == 0) and (s == 19 or changed[s + 1] > 0)


@pytest.mark.parametrize("attention", PATTERNS)
def test_log_prob_is_the_chain_rule_of_the_cached_steps(attention):
  model = _model(attention, num_classes=2)
  x = np.random.default_rng(3).integers(0, 16, size=(2, 13))
  condition = [1, 0]
  cond = model.condition_proj(model._encode_condition(condition, 2))
  cache = model.stack.empty_cache(2, 13)
  token, total = tf.fill([2], model.bos), np.zeros(2)
  for t in range(13):
    h = model.embed(token) + model.positions(tf.constant(t))[None] + cond
    h, cache = model.stack.step(h, tf.constant(t), cache)
    total += tf.nn.log_softmax(model.head(h)).numpy()[np.arange(2), x[:, t]]
    token = tf.constant(x[:, t], tf.int32)
  np.testing.assert_allclose(model.log_prob(x, condition), total, rtol=2e-5)


@pytest.mark.parametrize("attention", PATTERNS)
def test_cached_sampling_equals_naive(attention):
  model = _model(attention, num_classes=3)
  kw = dict(seed=[5, 6], temperature=0.9, condition=[0, 2], length=20)
  cached = model.sample(2, **kw)
  np.testing.assert_array_equal(cached, model.sample(2, method="naive", **kw))
  primed = model.sample(2, prime=[1, 2, 3], **kw)
  np.testing.assert_array_equal(primed[:, :3], [[1, 2, 3]] * 2)
  np.testing.assert_array_equal(primed, model.sample(2, prime=[1, 2, 3], method="naive", **kw))


@pytest.mark.parametrize("attention, block", [("strided", 64), ("fixed", 64)])
def test_sparse_attention_builds_no_n_by_n_tensor(attention, block):
  n = 4096
  q = tf.TensorSpec([1, 2, n, 8], tf.float32)
  graph = tf.function(lambda q, k, v: causal_attention(q, k, v, attention, block)
                      ).get_concrete_function(q, q, q).graph
  biggest = max(int(np.prod(o.shape.as_list())) for op in graph.get_operations()
                for o in op.outputs if o.shape.is_fully_defined() and o.shape.rank)
  assert biggest <= 2 * n * 2 * block * 2, biggest      # O(n·l) per head, not n²
  dense = tf.function(lambda q, k, v: causal_attention(q, k, v, "dense")
                      ).get_concrete_function(q, q, q).graph
  assert max(int(np.prod(o.shape.as_list())) for op in dense.get_operations()
             for o in op.outputs if o.shape.is_fully_defined() and o.shape.rank) >= n * n


def test_sparse_attention_equals_a_masked_dense_reference():
  rng = np.random.default_rng(4)
  q, k, v = (tf.constant(rng.normal(size=(1, 4, 23, 3)).astype(np.float32)) for _ in range(3))
  for attention in ("strided", "fixed"):
    got = causal_attention(q, k, v, attention, 5).numpy()
    t, j = np.meshgrid(np.arange(23), np.arange(23), indexing="ij")
    mask = np.stack([np.array(allowed(attention, t, j, 5, second_half=h >= 2))
                     for h in range(4)])
    scores = np.einsum("bhtd,bhjd->bhtj", q.numpy(), k.numpy()) / np.sqrt(3)
    scores = np.where(mask[None], scores, -1e30)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = np.where(mask[None], weights, 0)
    weights = weights / np.maximum(weights.sum(-1, keepdims=True), 1e-30)
    np.testing.assert_allclose(got, np.einsum("bhtj,bhjd->bhtd", weights, v.numpy()), atol=1e-5)


@pytest.mark.parametrize("build, match", [
    (lambda: Transformer(d_model=30, num_heads=4), "divisible"),
    (lambda: Transformer(attention="sliding"), "attention"),
    (lambda: Transformer(attention="strided", num_heads=3, d_model=12), "even"),
    (lambda: Transformer(context_length=0), "context_length"),
    (lambda: Transformer(dropout=1.5), "dropout"),
])
def test_bad_constructor_arguments(build, match):
  with pytest.raises(ValueError, match=match):
    build()


def test_bad_sequences_and_primes():
  model = _model()
  with pytest.raises(ValueError, match="context_length=20"):
    model.log_prob(np.zeros((1, 21), np.int32))
  with pytest.raises(ValueError, match="context_length=20"):
    model.sample(1, length=21, seed=1)
  with pytest.raises(ValueError, match=r"\[0, 15\]"):
    model.log_prob(np.full((1, 5), 16))
  for prime, match in (("", "empty"), ([1] * 21, "longer"), (b"\xff", r"\[0, 15\]")):
    with pytest.raises(ValueError, match=match):
      model.sample(1, length=20, prime=prime, seed=1)


def test_image_transformer_completes_images_and_matches_naive():
  model = ImageTransformer((4, 4, 3), num_levels=4, num_layers=2, d_model=16, num_heads=4)
  rng = np.random.default_rng(5)
  for v in model.trainable_variables:
    v.assign(rng.normal(scale=0.3, size=v.shape).astype(np.float32))
  assert model.block_size == 12                           # the row, in sub-pixels
  prefix = rng.integers(0, 4, size=(2, 2, 4, 3))
  cached = model.sample(2, seed=3, prefix=prefix)
  assert cached.dtype == tf.uint8 and cached.shape == (2, 4, 4, 3)
  np.testing.assert_array_equal(cached[:, :2], prefix)
  np.testing.assert_array_equal(cached, model.sample(2, seed=3, prefix=prefix, method="naive"))
  x = rng.integers(0, 4, size=(2, 4, 4, 3))
  assert model.conditionals(x).event_shape == [4, 4, 3]
  np.testing.assert_allclose(model.log_prob(x), model.conditionals(x).log_prob(x), rtol=1e-5)
  with pytest.raises(ValueError, match="prefix"):
    model.sample(2, seed=1, prefix=rng.integers(0, 4, size=(2, 4, 4, 3)))


@pytest.mark.slow  # real data (CharRNN's real-text test is slow too)
def test_learns_real_text(fortunes_available):
  keras.utils.set_random_seed(0)
  model = Transformer(context_length=96, num_layers=2, d_model=64, num_heads=4,
                      attention="strided")
  before, after = fortunes_bits_before_after(model, 2e-3)
  assert before > 7.5 and after < 4.5, (before, after)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_export_loads_with_tensorflow_only(tmp_path):
  text = _model("strided", num_levels=256)
  image = ImageTransformer((3, 3, 1), num_levels=2, num_layers=1, d_model=8, num_heads=2)
  paths = [export.save(text, tmp_path / "t"), export.save(image, tmp_path / "i")]
  script = textwrap.dedent(f"""
      import tensorflow as tf
      t, i = (tf.saved_model.load(p) for p in {paths!r})
      s = t.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant([1, 2]),
                                 temperature=tf.constant(0.8), length=tf.constant(12),
                                 prime=tf.constant([81, 58], tf.int32))["samples"]
      lp = t.signatures["serving_default"](x=tf.constant([[1, 2, 3]]))["log_prob"]
      img = i.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant([1, 2]),
                                   temperature=tf.constant(1.0))["samples"]
      try:
        t.signatures["serving_default"](x=tf.zeros([1, 21], tf.int32))
        long = "accepted"
      except tf.errors.InvalidArgumentError as e:
        long = "context_length" in str(e)
      result = {{"s": s.numpy().tolist(), "lp": lp.numpy().tolist(),
                "img": img.numpy().tolist(), "long": long}}
  """)
  out = run_tensorflow_only(script)
  assert out["mods"] == [] and out["long"] is True
  np.testing.assert_array_equal(out["s"], text.sample(2, seed=[1, 2], temperature=0.8,
                                                      length=12, prime=[81, 58]))
  np.testing.assert_allclose(out["lp"], text.log_prob([[1, 2, 3]]), rtol=1e-5)
  np.testing.assert_array_equal(out["img"], image.sample(2, seed=[1, 2]))
