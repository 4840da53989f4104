"""tfgen.compression: exact round trips for every family that codes, code
lengths against the model's own −log₂ p, and the blob's failure modes."""

import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf

from tfgen import base, compression, models
from tfgen.compression import container
from tests.conftest import perturb

LENGTH = 6


def _likelihood(name):
  return issubclass(models.FAMILIES[name].model, base.LikelihoodModel)


FAMILIES = sorted(n for n in models.FAMILIES if _likelihood(n))
CODING = ["char_rnn", "gated_pixelcnn", "image_transformer", "made", "nade", "pixelcnn",
          "pixelrnn", "transformer", "video_pixel_network", "wavenet"]


def _build(name, **kw):
  model = models.FAMILIES[name].build_tiny(models.FAMILIES, **kw)
  perturb(model, seed=1)   # away from the init, so the conditionals are not uniform
  return model


def _data(model, n, seed=0):
  shape = [d or LENGTH for d in model.event_shape]
  rng = np.random.default_rng(seed)
  return rng.integers(0, model.num_levels, size=[n] + shape).astype(model.data_dtype.name)


def _bits(model, x, condition=None):
  return float(-tf.reduce_sum(model.log_prob(x, condition)).numpy() / np.log(2))


def test_the_coding_families_are_the_product_of_conditionals_ones():
  coding = [n for n in FAMILIES if models.FAMILIES[n].build_tiny(models.FAMILIES)
            .cannot_code_reason is None]
  assert coding == CODING


@pytest.mark.parametrize("name", CODING)
def test_round_trip_is_exact_and_costs_the_model_bits(name):
  model = _build(name)
  x = _data(model, 5)
  blob = compression.compress(model, x, batch_size=2)   # 3 batches, the last padded
  y = compression.decompress(model, blob)
  assert y.dtype == x.dtype and np.array_equal(y, x)
  header = compression.read_header(blob)
  bits = _bits(model, x)
  assert header["ideal_bits"] == pytest.approx(bits, rel=1e-4)
  payload = 32 * header["payload_words"]
  assert bits - 1 <= payload <= bits * 1.01 + 64


@pytest.mark.parametrize("name", sorted(set(FAMILIES) - set(CODING)))
def test_the_others_refuse_with_their_reason(name):
  model = models.FAMILIES[name].build_tiny(models.FAMILIES)
  reason = model.cannot_code_reason
  assert reason
  with pytest.raises(ValueError, match="cannot compress") as e:
    compression.compress(model, _data(model, 2))
  assert reason in str(e.value)


def test_made_with_a_mask_ensemble_refuses():
  model = _build("made", num_masks=2)
  with pytest.raises(ValueError, match="mixture"):
    compression.compress(model, _data(model, 2))


def test_batch_composition_and_order_do_not_change_the_data():
  model = _build("gated_pixelcnn")
  x = _data(model, 7, seed=3)
  for batch in (1, 3, 7):
    assert np.array_equal(compression.decompress(model, compression.compress(
        model, x, batch_size=batch)), x)
  perm = np.random.default_rng(0).permutation(7)
  assert np.array_equal(compression.decompress(model, compression.compress(model, x[perm])),
                        x[perm])
  # Each example costs the same bits whatever it is batched with (to the coder's flush).
  alone = sum(compression.read_header(compression.compress(model, x[i:i + 1]))["ideal_bits"]
              for i in range(7))
  assert alone == pytest.approx(compression.read_header(
      compression.compress(model, x, batch_size=3))["ideal_bits"], rel=1e-5)


def test_coding_leaves_the_traced_samplers_sampling():
  model = _build("pixelcnn")
  before = model.sample(3, seed=5).numpy()     # traces the float-noise sampler first
  x = _data(model, 3)
  assert np.array_equal(compression.decompress(model, compression.compress(model, x)), x)
  assert np.array_equal(model.sample(3, seed=5).numpy(), before)
  assert len(np.unique(model.sample(8, seed=6).numpy())) > 1


def test_conditions_are_stored_and_returned():
  model = _build("gated_pixelcnn", num_classes=3)
  x, labels = _data(model, 4), np.array([0, 2, 1, 2])
  blob = compression.compress(model, x, labels)
  y, stored = compression.decompress(model, blob, with_condition=True)
  assert np.array_equal(y, x) and np.array_equal(stored, labels)
  # The condition is part of the code: other labels give other bits.
  other = compression.read_header(compression.compress(model, x, labels[::-1]))
  assert other["ideal_bits"] != compression.read_header(blob)["ideal_bits"]
  with pytest.raises(ValueError, match="is conditional"):
    compression.compress(model, x)
  with pytest.raises(ValueError, match="one row per example"):
    compression.compress(model, x, labels[:2])
  with pytest.raises(ValueError):
    compression.compress(model, x, np.array([0, 1, 2, 3]))


def test_a_trained_model_codes_within_one_percent_of_its_bits():
  """A NADE trained on structured data: 300 examples, bits compared with log_prob."""
  rng = np.random.default_rng(0)
  base_rows = rng.integers(0, 2, size=(4, 16))
  x = base_rows[rng.integers(0, 4, 600)] ^ (rng.random((600, 16)) < 0.05)
  x = x.astype(np.int32)
  model = models.FAMILIES["nade"].model(event_size=16, hidden_units=16, num_levels=2)
  model.compile(_adam())
  model.fit(x[:300], epochs=30, batch_size=50, verbose=0)
  test = x[300:]
  bits = _bits(model, test)
  assert bits / test.size < 0.6        # learned: a uniform model costs 1 bit per dimension
  blob = compression.compress(model, test)
  payload = 32 * compression.read_header(blob)["payload_words"]
  assert payload <= 1.01 * bits + 32
  assert payload >= bits - 1
  assert np.array_equal(compression.decompress(model, blob), test)


def _adam():
  from tfgen._keras import keras
  return keras.optimizers.Adam(1e-2)


def test_sequences_of_any_length_and_the_max_length_bound():
  model = _build("transformer")
  for length in (1, 3, model.context_length):
    x = np.random.default_rng(length).integers(0, model.num_levels, (2, length))
    assert np.array_equal(compression.decompress(model, compression.compress(model, x)), x)
  with pytest.raises(ValueError, match="context_length"):
    compression.compress(model, np.zeros((1, model.context_length + 1), np.int32))


@pytest.mark.parametrize("name", ["wavenet", "char_rnn", "transformer"])
def test_sequences_of_different_lengths_code_together(name):
  model = _build(name)
  rng = np.random.default_rng(2)
  seqs = [rng.integers(0, model.num_levels, k).astype(np.int32) for k in (5, 1, 12, 5, 3)]
  blob = compression.compress(model, seqs, batch_size=2)
  back = compression.decompress(model, blob)
  assert len(back) == 5 and all(np.array_equal(a, b) for a, b in zip(back, seqs))
  assert compression.num_symbols(blob) == 26
  bits = sum(_bits(model, s[None]) for s in seqs)     # padding is never coded
  assert compression.read_header(blob)["ideal_bits"] == pytest.approx(bits, rel=1e-4)
  with pytest.raises(ValueError, match="empty"):
    compression.compress(model, [seqs[0], seqs[0][:0]])
  with pytest.raises(ValueError, match="empty list"):
    compression.compress(model, [])


@pytest.fixture(scope="module")
def coded():
  model = _build("pixelcnn")
  x = _data(model, 4)
  return model, x, compression.compress(model, x)


def test_bad_data_is_refused(coded):
  model, x, _ = coded
  for bad, message in [(x[:0], "empty"), (x[..., 0], "shape"), (x + model.num_levels, "lie in"),
                       (x.astype(np.float32) + 0.5, "whole numbers"),
                       (np.array([["a"]]), "integer array")]:
    with pytest.raises(ValueError, match=message):
      compression.compress(model, bad)
  with pytest.raises(ValueError, match="batch_size"):
    compression.compress(model, x, batch_size=0)


def test_a_blob_for_another_model_is_refused(coded):
  model, _, blob = coded
  other = _build("pixelcnn")
  perturb(other, seed=9)
  with pytest.raises(compression.CompressionError, match="another model"):
    compression.decompress(other, blob)
  # A model that cannot code at all (a flow) did not make it either: said so.
  with pytest.raises(compression.CompressionError, match="another model"):
    compression.decompress(models.FAMILIES["glow"].build_tiny(models.FAMILIES), blob)


def _recrc(body):
  return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def test_truncated_corrupted_and_foreign_blobs_are_refused(coded):
  model, _, blob = coded
  for bad, message in [(blob[:-5], "truncated"), (blob[:12], "truncated"), (b"", "not a tfgen"),
                       (b"PK\x03\x04" + blob[4:], "not a tfgen"), (blob + b"\0", "after its end"),
                       ("text", "bytes")]:
    with pytest.raises(compression.CompressionError, match=message):
      compression.decompress(model, bad)
  for i in (len(blob) - 12, 60, len(blob) - 2):
    flipped = bytearray(blob)
    flipped[i] ^= 0x10
    with pytest.raises(compression.CompressionError, match="corrupted"):
      compression.decompress(model, bytes(flipped))
  future = bytearray(blob[:-4])
  future[4:6] = struct.pack("<H", container.FORMAT + 1)
  with pytest.raises(compression.CompressionError, match="newer tfgen"):
    compression.decompress(model, _recrc(bytes(future)))


def test_a_crafted_header_cannot_make_the_decoder_allocate_without_bound(coded):
  model, _, blob = coded
  header, words = container.unpack(blob)
  huge = container.pack(dict(header, shape=[1 << 40, 4, 4, 1]), words)
  with pytest.raises(compression.CompressionError, match="more than"):
    compression.decompress(model, huge)
  for bad in ({"shape": [4, 4, 4]}, {"batch_size": 0}, {"shape": "x"}, {"fingerprint": None}):
    with pytest.raises(compression.CompressionError):
      compression.decompress(model, container.pack(dict(header, **bad), words))


def test_a_payload_that_decodes_wrongly_fails_its_data_crc(coded):
  """A blob whose CRC was recomputed after a payload change (so only the data
  CRC can tell) never returns wrong data."""
  model, _, blob = coded
  header, words = container.unpack(blob)
  words = words.copy()
  words[0] ^= 0x00FF0000
  with pytest.raises(compression.CompressionError, match="decode|CRC"):
    compression.decompress(model, container.pack(header, words))


def test_the_same_data_give_the_same_bytes(coded):
  model, x, blob = coded
  assert compression.compress(model, x) == blob
