import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfgen import export
from tfgen.flows import Glow

LOADER = r"""
import json, sys
import numpy as np
import tensorflow as tf
path, x_path = sys.argv[1], sys.argv[2]
m = tf.saved_model.load(path)
x = tf.constant(np.load(x_path).astype(np.int32))
labels = tf.constant([0, 1, 2])
out = m.signatures["serving_default"](x=x, condition=labels)
s = m.signatures["sample"](num_samples=tf.constant(3), seed=tf.constant([4, 5]),
                           temperature=tf.constant(0.8), condition=labels)
z = m.signatures["encode"](x=x, condition=labels)["z"]
back = m.signatures["decode"](z=z, condition=labels)["x"]
print(json.dumps({
    "forbidden": sorted({k.split(".")[0] for k in sys.modules}
                        & {"tfgen", "tensorflow_probability", "tf_keras"}),
    "log_prob": out["log_prob"].numpy().tolist(),
    "bits_per_dim": out["bits_per_dim"].numpy().tolist(),
    "samples": s["samples"].numpy().tolist(),
    "z": z.numpy().tolist(), "decoded": back.numpy().tolist()}))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  model = Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=8, num_classes=3)
  x = np.random.default_rng(0).integers(0, 256, size=(3, 8, 8, 1))
  model.log_prob(x, condition=[0, 1, 2])  # ActNorm's data-dependent init
  base = tmp_path_factory.mktemp("saved_models") / "glow"
  return model, x, export.save(model, base), base


def test_fresh_process_imports_only_tensorflow_and_matches(exported, tmp_path):
  model, x, path, _ = exported
  np.save(tmp_path / "x.npy", x)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  run = subprocess.run([sys.executable, "-c", LOADER, path, str(tmp_path / "x.npy")],
                       capture_output=True, text=True, env=env, timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  got = json.loads(run.stdout.strip().splitlines()[-1])
  assert got["forbidden"] == []
  labels = [0, 1, 2]
  np.testing.assert_allclose(got["log_prob"], model.log_prob(x, condition=labels, seed=[0, 0]),
                             rtol=1e-5)
  np.testing.assert_allclose(got["bits_per_dim"],
                             model.bits_per_dim(x, condition=labels, seed=[0, 0]), rtol=1e-5)
  np.testing.assert_array_equal(got["samples"],
                                model.sample(3, seed=[4, 5], temperature=0.8, condition=labels))
  np.testing.assert_allclose(got["z"], model.encode(x, condition=labels), atol=1e-4)
  np.testing.assert_array_equal(got["decoded"], x)


def test_layout_versions_and_no_overwrite(exported):
  model, _, path, base = exported
  assert path == os.path.join(str(base), "1")
  assert os.path.exists(os.path.join(path, "saved_model.pb"))
  assert export.save(model, base) == os.path.join(str(base), "2")
  with pytest.raises(ValueError, match="never overwritten"):
    export.save(model, base, version=1)
  assert sorted(os.listdir(base)) == ["1", "2"]  # no staging folders left behind


def test_graph_has_no_pyfunc_or_stateful_random_ops(exported):
  _, _, path, _ = exported
  from tensorflow.core.protobuf import saved_model_pb2
  proto = saved_model_pb2.SavedModel()
  with open(os.path.join(path, "saved_model.pb"), "rb") as f:
    proto.ParseFromString(f.read())
  graph = proto.meta_graphs[0].graph_def
  ops = {n.op for n in graph.node}
  for fn in graph.library.function:
    ops |= {n.op for n in fn.node_def}
  banned = {"PyFunc", "EagerPyFunc", "PyFuncStateless", "RandomUniform", "RandomStandardNormal",
            "RandomUniformInt", "Multinomial", "TruncatedNormal", "RandomShuffle"}
  assert not ops & banned, ops & banned
  assert "StatelessRandomNormalV2" in ops or "StatelessRandomNormalV3" in ops or any(
      "Stateless" in op for op in ops)
  sigs = proto.meta_graphs[0].signature_def
  assert set(sigs) >= {"serving_default", "sample", "encode", "decode"}
  assert all(s.method_name == "tensorflow/serving/predict" for k, s in sigs.items()
             if not k.startswith("__"))


def test_bad_requests_fail_clearly(exported):
  _, _, path, _ = exported
  m = tf.saved_model.load(path)
  serve = m.signatures["serving_default"]
  labels = tf.constant([0])
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"values must lie in \[0, 255\]"):
    serve(x=tf.fill([1, 8, 8, 1], 300), condition=labels)
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"condition.*\[0, 2\]"):
    serve(x=tf.zeros([1, 8, 8, 1], tf.int32), condition=tf.constant([7]))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"must have shape \[batch, 8, 8, 1\]"):
    serve(x=tf.zeros([1, 8, 7, 1], tf.int32), condition=labels)      # wrong shape
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"must have shape \[batch, 64\]"):
    m.signatures["decode"](z=tf.zeros([1, 63]), condition=labels)
  with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
    serve(x=tf.zeros([1, 8, 8, 1], tf.float32), condition=labels)    # wrong dtype


def test_unsupported_inputs_are_clear_errors(tmp_path):
  from tfgen.autoregressive import WaveNet
  with pytest.raises(ValueError, match="tfgen model"):
    export.save(object(), tmp_path / "x")
  both = WaveNet(num_layers_per_stack=2, num_stacks=1, residual_channels=4, dilation_channels=4,
                 skip_channels=4, num_classes=2, condition_shape=(None, 2), local_upsample=4)
  with pytest.raises(ValueError, match="both global and local"):
    export.save(both, tmp_path / "w")
  assert not (tmp_path / "w").exists()


def test_warmup_requests_replay_against_the_signatures(exported):
  from tensorflow_serving.apis import prediction_log_pb2
  _, _, path, base = exported
  m = tf.saved_model.load(path)
  records = os.path.join(path, "assets.extra", "tf_serving_warmup_requests")
  seen = []
  for raw in tf.data.TFRecordDataset(records):
    log = prediction_log_pb2.PredictionLog.FromString(raw.numpy())
    request = log.predict_log.request
    assert request.model_spec.name == os.path.basename(str(base))
    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
    outputs = m.signatures[request.model_spec.signature_name](
        **{k: tf.constant(v) for k, v in inputs.items()})
    assert all(np.all(np.isfinite(np.asarray(o, np.float64))) for o in outputs.values())
    seen.append(request.model_spec.signature_name)
  assert sorted(seen) == ["decode", "encode", "sample", "serving_default"]


def test_loads_like_tf_serving_with_a_tf1_session_and_tensor_names(exported):
  model, x, path, _ = exported
  graph = tf.Graph()
  with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
    sig = meta.signature_def["serving_default"]
    feed = {sig.inputs["x"].name: x.astype(np.int32), sig.inputs["condition"].name: [0, 1, 2]}
    out = sess.run(sig.outputs["log_prob"].name, feed_dict=feed)
  np.testing.assert_allclose(out, model.log_prob(x, condition=[0, 1, 2], seed=[0, 0]), rtol=1e-5)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_saved_model_cli_show_and_run(exported, tmp_path):
  _, x, path, _ = exported
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  show = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True,
                        env=env, timeout=300)
  assert show.returncode == 0, show.stderr[-2000:]
  assert "signature_def['sample']" in show.stdout and "tensorflow/serving/predict" in show.stdout
  np.save(tmp_path / "x.npy", x.astype(np.int32))
  np.save(tmp_path / "labels.npy", np.array([0, 1, 2], np.int32))
  run = subprocess.run([cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
                        "serving_default", "--inputs",
                        f"x={tmp_path / 'x.npy'};condition={tmp_path / 'labels.npy'}"],
                       capture_output=True, text=True, env=env, timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  assert "log_prob" in run.stdout and "bits_per_dim" in run.stdout
