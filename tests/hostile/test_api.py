"""Hostile inputs at the Python API: each row is an input and the exact outcome,
a ValueError whose text names what was wrong. Nothing may raise anything else,
hang, allocate without bound, or change a model's state."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen import audio, data
from tfgen.autoregressive import (MADE, CharRNN, MultiscalePixelCNN, ParallelWaveNet, PixelCNN,
                                  PixelRNN, Transformer, VideoPixelNetwork, WaveNet)
from tfgen.bijectors import AffineCoupling, Dequantize
from tfgen.flows import Glow
from tfgen.latent import VQVAE, CodePrior, TextToImage, encode_captions
from tfgen.training import default_optimizer, resumable


def glow(**kw):
  return Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, **kw)


def pixelcnn(**kw):
  return PixelCNN((4, 4, 1), num_levels=4, filters=4, num_layers=2, gated=True, **kw)


def wavenet(**kw):
  return WaveNet(2, 1, 4, 4, 4, num_levels=8, **kw)


def made(**kw):
  return MADE(6, hidden_units=[8], num_levels=3, **kw)


def vqvae(**kw):
  return VQVAE((8, 8, 1), **{"num_codes": 4, "code_dim": 2, "hidden_channels": 4,
                             "num_residual_blocks": 1, **kw})


def student(**kw):
  return ParallelWaveNet(wavenet(), flow_layers=[1], channels=4, **kw)


def _compiled(model):
  model.compile(default_optimizer(1e-3))
  return model


def vpn(**kw):
  return VideoPixelNetwork((2, 4, 4, 1), num_levels=4, encoder_filters=2, encoder_layers=1,
                           lstm_filters=2, decoder_filters=2, decoder_layers=1, **kw)


IMG8 = np.zeros((2, 8, 8, 1), np.uint8)
IMG = np.zeros((2, 4, 4, 1), np.uint8) + np.arange(16, dtype=np.uint8).reshape(1, 4, 4, 1)
SEQ = np.zeros((2, 12), np.int32)

CASES = [
    # -- data given to log_prob --------------------------------------------------------
    ("glow: rank", lambda: glow().log_prob(IMG[..., 0]), "`x` must have shape"),
    ("glow: empty batch", lambda: glow().log_prob(IMG[:0]), "empty batch"),
    ("glow: constant first batch", lambda: glow().log_prob(np.zeros((2, 4, 4, 1))),
     "one value everywhere"),
    ("glow: strings", lambda: glow().log_prob([["a"]]), "`x`"),
    ("glow: bool dtype", lambda: glow().log_prob(IMG.astype(bool)), "dtype"),
    ("glow: 256", lambda: glow().log_prob(IMG.astype(np.int32) + 250), r"\[0, 255\]"),
    ("glow: NaN", lambda: glow().log_prob(np.full((2, 4, 4, 1), np.nan)), "finite"),
    ("glow: fractional", lambda: glow().log_prob(IMG + 0.5), "whole numbers"),
    ("pixelcnn: level 4", lambda: pixelcnn().log_prob(IMG), r"\[0, 3\]"),
    ("pixelcnn: empty", lambda: pixelcnn().log_prob(IMG[:0] % 4), "empty batch"),
    ("made: wrong size", lambda: made().log_prob(np.zeros((2, 5))), "shape"),
    ("wavenet: 8", lambda: wavenet().log_prob(SEQ + 8), r"\[0, 7\]"),
    ("wavenet: length 0", lambda: wavenet().log_prob(np.zeros((2, 0), np.int32)),
     "at least one step"),
    ("wavenet: too short for loss_start",
     lambda: wavenet(loss_start=12).log_prob(SEQ), "longer than loss_start=12"),
    # -- conditions -----------------------------------------------------------------------
    ("unconditional given a condition", lambda: pixelcnn().log_prob(IMG % 4, [0, 1]),
     "unconditional"),
    ("conditional without one", lambda: pixelcnn(num_classes=2).log_prob(IMG % 4), "conditional"),
    ("one label for two images", lambda: pixelcnn(num_classes=2).log_prob(IMG % 4, [1]),
     "one row per example"),
    ("label out of range", lambda: pixelcnn(num_classes=2).log_prob(IMG % 4, [0, 2]),
     r"condition.*\[0, 1\]"),
    ("NaN vector condition",
     lambda: pixelcnn(condition_shape=(3,)).log_prob(IMG % 4, np.full((2, 3), np.nan)), "finite"),
    ("vector of the wrong size",
     lambda: pixelcnn(condition_shape=(3,)).log_prob(IMG % 4, np.ones((2, 4))), "shape"),
    ("wavenet: 3 labels for a batch of 2",
     lambda: wavenet(num_classes=3).sample(2, length=5, seed=1, condition=[0, 1, 2]),
     "one row per example"),
    ("wavenet: NaN local features",
     lambda: wavenet(condition_shape=(None, 2), local_upsample=4).log_prob(
         SEQ, np.full((2, 3, 2), np.nan)), "finite"),
    ("wavenet: local features too short",
     lambda: wavenet(condition_shape=(None, 2), local_upsample=2).log_prob(SEQ, np.ones((2, 3, 2))),
     "covers 6 samples"),
    ("both num_classes and condition_shape", lambda: pixelcnn(num_classes=2, condition_shape=(3,)),
     "at most one"),
    ("condition_shape not a shape", lambda: pixelcnn(condition_shape="abc"), "condition_shape"),
    # -- sampling -----------------------------------------------------------------------------
    ("n = 0", lambda: glow().sample(0, seed=1), "`n`"),
    ("n = 10**9", lambda: glow().sample(10 ** 9, seed=1), "at most"),
    ("n as a float", lambda: glow().sample(2.0, seed=1), "`n`"),
    ("noise beyond the bound", lambda: PixelCNN((28, 28, 1), filters=2, num_layers=1).sample(
        2000, seed=1), "random numbers"),
    ("temperature NaN", lambda: glow().sample(2, seed=1, temperature=float("nan")), "temperature"),
    ("temperature inf", lambda: wavenet().sample(1, length=4, temperature=float("inf")),
     "temperature"),
    ("temperature -1", lambda: pixelcnn().sample(1, temperature=-1), "temperature"),
    ("temperature 1e-45", lambda: pixelcnn().sample(1, temperature=1e-45), "temperature"),
    ("temperature string", lambda: pixelcnn().sample(1, temperature="hot"), "temperature"),
    ("seed string", lambda: made().sample(2, seed="midpoint"), "seed"),
    ("seed [2**70, 1]", lambda: made().sample(2, seed=[2 ** 70, 1]), "seed"),
    ("seed of 3", lambda: made().sample(2, seed=[1, 2, 3]), "seed"),
    ("seed float", lambda: made().sample(2, seed=1.5), "seed"),
    ("wavenet without length", lambda: wavenet().sample(2, seed=1), "length"),
    ("wavenet length 0", lambda: wavenet().sample(2, seed=1, length=0), "length"),
    ("wavenet length 10**12", lambda: wavenet().sample(2, seed=1, length=10 ** 12), "length"),
    ("wavenet unknown method", lambda: wavenet().sample(1, length=3, method="fast"), "method"),
    ("pixelcnn prefix with every row",
     lambda: pixelcnn().sample(2, seed=1, prefix=IMG % 4), r"rows <= 3"),
    ("pixelcnn prefix of another batch",
     lambda: pixelcnn().sample(3, seed=1, prefix=IMG[:, :2] % 4), "prefix"),
    ("pixelcnn prefix out of range", lambda: pixelcnn().sample(2, seed=1, prefix=IMG[:, :2]),
     r"\[0, 3\]"),
    ("unknown sample option", lambda: glow().sample(2, seed=1, length=3),
     "does not take length"),
    ("misspelt sample option", lambda: pixelcnn().sample(2, seed=1, methd="naive"),
     "options are: method, prefix"),
    ("decode NaN", lambda: glow().decode(np.full((1, 16), np.nan, np.float32)), "finite"),
    ("decode wrong size", lambda: glow().decode(np.zeros((1, 15), np.float32)), "shape"),
    # -- constructors -------------------------------------------------------------------------
    ("glow levels 0", lambda: Glow((4, 4, 1), levels=0), "levels"),
    ("glow 28 px, 3 levels", lambda: Glow((28, 28, 1), levels=3, steps_per_level=1,
                                         hidden_channels=4), "divisible"),
    ("glow bad coupling", lambda: glow(coupling="multiplicative"), "coupling"),
    ("pixelcnn 2 channels", lambda: PixelCNN((4, 4, 2)), "1 or 3 channels"),
    ("pixelcnn 1 level", lambda: PixelCNN((4, 4, 1), num_levels=1), "num_levels"),
    ("made order not a permutation", lambda: MADE(3, input_order=[0, 0, 1]), "input_order"),
    ("wavenet local without upsample", lambda: WaveNet(condition_shape=(None, 2)),
     "local_upsample"),
    ("wavenet bad condition_shape", lambda: WaveNet(condition_shape=(3,)), "None, channels"),
    ("image_shape", lambda: Glow((4, 4)), "image_shape"),
    # -- sequence models ------------------------------------------------------------------------
    ("char_rnn: code 256", lambda: CharRNN(units=4, num_layers=1).log_prob([[256]]),
     r"\[0, 255\]"),
    ("char_rnn: empty prime", lambda: CharRNN(units=4, num_layers=1).sample(
        1, length=5, prime=b"", seed=1), "empty"),
    ("char_rnn: prime longer than length", lambda: CharRNN(units=4, num_layers=1).sample(
        1, length=2, prime="abc", seed=1), "longer than length=2"),
    ("char_rnn: prime of strings", lambda: CharRNN(units=4, num_layers=1).sample(
        1, length=5, prime=["a", "b"], seed=1), "prime"),
    ("char_rnn: bad cell", lambda: CharRNN(cell="rnn"), "cell"),
    ("char_rnn: bad schedule", lambda: CharRNN(scheduled_sampling="cosine"), "decay"),
    ("transformer: too long", lambda: Transformer(context_length=8, num_layers=1, d_model=8,
                                                  num_heads=2).log_prob(np.zeros((1, 9))),
     "context_length=8"),
    ("transformer: bad attention", lambda: Transformer(attention="sliding"), "attention"),
    ("transformer: d_model % heads", lambda: Transformer(d_model=10, num_heads=4), "divisible"),
    ("transformer: sample beyond context", lambda: Transformer(
        context_length=8, num_layers=1, d_model=8, num_heads=2).sample(1, length=9, seed=1),
     "context_length=8"),
    ("pixelrnn: bad layer", lambda: PixelRNN((4, 4, 1), layer="column"), "layer"),
    # -- bijectors ----------------------------------------------------------------------------
    ("float64 into a coupling", lambda: AffineCoupling([4], hidden_channels=4).forward(
        np.zeros((1, 4))), "float32"),
    ("dequantize seed string", lambda: Dequantize().add_noise(IMG, seed="middle"), "seed"),
    ("dequantize seed and midpoint", lambda: Dequantize().add_noise(IMG, seed=1, midpoint=True),
     "not both"),
    # -- audio ---------------------------------------------------------------------------------
    ("mu_law_decode 256", lambda: audio.mu_law_decode([256]), r"\[0, 255\]"),
    ("mu_law_decode -1", lambda: audio.mu_law_decode([-1]), r"\[0, 255\]"),
    ("mu_law_decode 1.5", lambda: audio.mu_law_decode([1.5]), "whole numbers"),
    ("mu_law_encode levels 1", lambda: audio.mu_law_encode([0.1], levels=1), "levels"),
    ("mu_law_encode 2.0", lambda: audio.mu_law_encode([2.0]), r"\[-1, 1\]"),
    ("write_wav rate 0", lambda: audio.write_wav("/tmp/tfgen_hostile.wav", [0.], 0), "rate"),
    ("write_wav NaN", lambda: audio.write_wav("/tmp/tfgen_hostile.wav", [np.nan], 8000), "finite"),
    ("write_wav 2.0", lambda: audio.write_wav("/tmp/tfgen_hostile.wav", [2.0], 8000), r"\[-1, 1\]"),
    ("write_wav into a folder", lambda: audio.write_wav("/tmp", [0.], 8000), "folder"),
    ("resample empty", lambda: audio.resample([], 8000, 16000), "non-empty"),
    ("resample rate 0", lambda: audio.resample([0.], 0, 16000), "positive"),
    # -- two-stage models -------------------------------------------------------------------------
    ("vqvae num_codes 0", lambda: vqvae(num_codes=0), "num_codes"),
    ("vqvae code_dim 0", lambda: vqvae(code_dim=0), "code_dim"),
    ("vqvae code_dim True", lambda: vqvae(code_dim=True), "code_dim"),
    ("vqvae 3 levels", lambda: vqvae(levels=3), "levels"),
    ("vqvae 10x10 images", lambda: VQVAE((10, 10, 1)), "multiples of 4"),
    ("decode code 4", lambda: vqvae().decode(np.full((1, 2, 2), 4)), r"\[0, 3\]"),
    ("decode wrong map", lambda: vqvae().decode(np.zeros((1, 3, 3), np.int32)), "codes"),
    ("decode float codes", lambda: vqvae().decode(np.full((1, 2, 2), 0.5)), "whole numbers"),
    ("decode strings", lambda: vqvae().decode([["a"]]), "codes"),
    ("decode one map for two levels", lambda: vqvae(levels=2).decode(np.zeros((1, 2, 2))),
     "2 code map"),
    ("encode wrong image", lambda: vqvae().encode(IMG), "`x` must have shape"),
    ("vqvae sample", lambda: vqvae().sample(1, seed=0), "vqvae_prior"),
    ("prior: not a vqvae", lambda: CodePrior(pixelcnn()), "VQVAE"),
    ("prior: other num_codes", lambda: CodePrior(vqvae(num_codes=8), prior=CodePrior(
        vqvae(), filters=4, num_layers=1).top), "num_codes=8"),
    ("prior: other map shape", lambda: CodePrior(VQVAE((12, 12, 1), num_codes=4, code_dim=2),
                                                 prior=PixelCNN((2, 2, 1), num_levels=4)),
     "another VQ-VAE"),
    ("prior: code out of range", lambda: CodePrior(vqvae(), filters=4, num_layers=1).log_prob(
        np.full((1, 4), 4)), r"\[0, 3\]"),
    ("prior: dataset of another shape", lambda: CodePrior.from_dataset(
        data.info("cifar10"), vqvae=vqvae()), "dataset 'cifar10'"),
    ("t2i: empty prompt", lambda: TextToImage(vqvae(), text_length=24, num_layers=1, d_model=8,
                                              num_heads=2).sample(1, prompt="", seed=0), "empty"),
    ("t2i: bytes-less prompt", lambda: TextToImage(vqvae(), text_length=24, num_layers=1,
                                                   d_model=8, num_heads=2).sample(
        1, prompt=7, seed=0), "text"),
    ("t2i: caption not text", lambda: encode_captions([1.5], 8), "text"),
    ("t2i: one string", lambda: encode_captions("bag", 8), "list"),
    ("t2i: two-level vqvae", lambda: TextToImage(vqvae(levels=2)), "levels=1"),
    ("load encode not callable", lambda: data.load("fashion_mnist", encode=3), "encode"),
    ("load encode on text", lambda: data.load("fortunes", encode=lambda b: b), "image"),
    # -- parallel generation and video ----------------------------------------------------------
    ("student: teacher is a PixelCNN", lambda: ParallelWaveNet(pixelcnn()), "WaveNet"),
    ("student: flow_layers 0", lambda: ParallelWaveNet(wavenet(), flow_layers=[0]),
     "flow_layers entry"),
    ("student: flow_layers int", lambda: ParallelWaveNet(wavenet(), flow_layers=4),
     "flow_layers"),
    ("student: power_weight NaN", lambda: ParallelWaveNet(wavenet(), power_weight=float("nan")),
     "power_weight"),
    ("student: text data", lambda: ParallelWaveNet.from_dataset(data.info("fortunes"),
                                                                teacher=wavenet()), "audio"),
    ("student: length 0", lambda: student().sample(1, length=0, seed=1), "length"),
    ("student: codes out of range", lambda: _compiled(student()).evaluate(
        np.full((2, 8), 300), verbose=0), r"\[0, 7\]"),
    ("student: waveform n 0", lambda: student().waveform(0, 8), "`n`"),
    ("multiscale: 10x10 with 2 upscalings", lambda: MultiscalePixelCNN((10, 10, 1), upscalings=2),
     "divisible by 4"),
    ("multiscale: 4x4 default", lambda: MultiscalePixelCNN((4, 4, 1)), "base of at least 4x4"),
    ("multiscale: upscalings 1.5", lambda: MultiscalePixelCNN((8, 8, 1), upscalings=1.5),
     "upscalings"),
    ("multiscale: wrong image", lambda: MultiscalePixelCNN(
        (8, 8, 1), num_levels=4, upscalings=1, filters=2, num_layers=1, base_filters=2,
        base_layers=1).log_prob(IMG), "`x` must have shape"),
    ("vpn: image shape", lambda: VideoPixelNetwork((8, 8, 1)), "video_shape"),
    ("vpn: 0 frames", lambda: VideoPixelNetwork((0, 8, 8, 1)), "frames"),
    ("vpn: prefix of images", lambda: vpn().sample(2, seed=1, prefix_frames=np.zeros(
        (2, 4, 4, 1))), "prefix_frames"),
    ("vpn: prefix of another size", lambda: vpn().sample(2, seed=1, prefix_frames=np.zeros(
        (2, 1, 8, 8, 1))), "prefix_frames"),
    ("vpn: prefix too long", lambda: vpn().sample(2, seed=1, num_frames=2, prefix_frames=np.zeros(
        (2, 3, 4, 4, 1))), "more than num_frames"),
    ("vpn: prefix value 4", lambda: vpn().sample(2, seed=1, prefix_frames=np.full(
        (2, 1, 4, 4, 1), 4)), r"\[0, 3\]"),
    ("vpn: num_frames 0", lambda: vpn().sample(2, seed=1, num_frames=0), "num_frames"),
    ("vpn: image dataset", lambda: VideoPixelNetwork.from_dataset(data.info("fashion_mnist")),
     "models video data"),
    ("load video labels", lambda: data.load("moving_fashion_mnist_small", labels=True),
     "no labels"),
    # -- data and training helpers ---------------------------------------------------------------
    ("load take 0", lambda: data.load("fashion_mnist", take=0), "take"),
    ("load take -1", lambda: data.load("fashion_mnist", take=-1), "take"),
    ("load batch True", lambda: data.load("fashion_mnist", batch_size=True), "batch_size"),
    ("load batch 10**12", lambda: data.load("fashion_mnist", batch_size=10 ** 12), "at most"),
    ("load window 0", lambda: data.load("speech", window=0), "window"),
    ("load unknown", lambda: data.load("imagenet"), "Unknown dataset"),
    ("load bad split", lambda: data.load("fashion_mnist", "validation"), "split"),
    ("optimizer -1", lambda: default_optimizer(-1.0), "learning_rate"),
    ("optimizer NaN", lambda: default_optimizer(float("nan")), "learning_rate"),
]


@pytest.mark.parametrize("what, call, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_value_error(what, call, match):
  with pytest.raises(ValueError, match=match):
    call()


def test_read_wav_missing_is_file_not_found():
  with pytest.raises(FileNotFoundError, match="No WAV file"):
    audio.read_wav("/nonexistent/x.wav")


def test_resumable_refuses_a_file(tmp_path):
  (tmp_path / "f").write_text("x")
  with pytest.raises(ValueError, match="is a file"):
    resumable(tmp_path / "f")
  with pytest.raises(ValueError, match="which is a file"):
    resumable(tmp_path / "f" / "run")


def test_bad_input_changes_no_state():
  model = glow()
  for bad in (IMG[:0], np.zeros((2, 4, 4, 1)), np.full((2, 4, 4, 1), 300)):
    with pytest.raises(ValueError):
      model.log_prob(bad)
  assert not any(bool(a.initialized.numpy()) for a in model._actnorms())
  assert np.all(np.isfinite(model.log_prob(IMG).numpy()))   # still a working model


@pytest.mark.parametrize("bad, match", [
    (np.full((4, 4, 4, 1), 7), r"\[0, 3\]"), (np.full((4, 4, 4, 1), 0.5, np.float32), "whole"),
    (np.full((4, 4, 4, 1), np.nan, np.float32), "finite")])
def test_fit_evaluate_predict_on_a_traced_model_raise_the_same_value_error(bad, match):
  model = pixelcnn()
  model.compile(default_optimizer())
  model.fit(IMG % 4, batch_size=2, verbose=0)        # traced now
  for call in (model.fit, model.evaluate, model.predict):
    with pytest.raises(ValueError, match=match):
      call(bad, batch_size=2, verbose=0)
