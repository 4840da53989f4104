"""Parallel generation and video, into bench/results.json.

Run: .venv/bin/python bench/parallel_and_video.py [--minutes 4]

- parallel_wavenet: a WaveNet teacher (demo size: 2 stacks of 8 layers, 32
  channels) trained ``--minutes`` on speech, then a Parallel WaveNet student
  (4 IAF flows of 6, 6, 6, 8 layers, 32 channels), and a smaller one (4, 4,
  4, 4), each distilled from it for ``--minutes``. Generation of one second
  at 8 kHz, both compiled (the teacher's cached Fast-WaveNet loop, the
  student's one pass per flow), best of 3 after a warm-up; the teacher's
  bits per sample on its own samples against on each student's; each
  student's KL before and after.
  WAVs of both go to bench/out/.
- multiscale: MultiscalePixelCNN against the Gated PixelCNN on Fashion-MNIST
  (256 levels), each trained ``--minutes``: test bits/dim (2,000 test
  images) and the wall time of ``sample(16)`` at 28×28 and, untrained, at
  64×64 (the network evaluations made are in the table).
- video: VideoPixelNetwork on binarized moving Fashion-MNIST (10 frames of
  32×32) trained ``--minutes``: test bits/dim (200 videos) and the time to
  sample 4 videos; a PNG strip goes to bench/out/.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import fit_for, param_count, record, timed  # noqa: E402

OUT = os.path.join(HERE, "out")


#: Students distilled from the one teacher: the flows' layer counts (32 channels).
STUDENTS = {"student": (6, 6, 6, 8), "small_student": (4, 4, 4, 4)}


def _teacher(spec):
  """The WaveNet teacher of the Parallel WaveNet rows (demo size)."""
  from tfgen.autoregressive import WaveNet
  return WaveNet.from_dataset(spec, num_layers_per_stack=8, num_stacks=2, residual_channels=32,
                              skip_channels=64)


def _student(spec, teacher, layers):
  from tfgen.autoregressive import ParallelWaveNet
  return ParallelWaveNet.from_dataset(spec, teacher=teacher, flow_layers=layers, channels=32)


def parallel_wavenet(minutes):
  import numpy as np
  from tfgen import audio, data
  from tfgen.training import default_optimizer
  spec = data.info("speech")
  teacher = _teacher(spec)
  window = teacher.default_window
  train = data.load("speech", "train", 16, window=window, repeat=True, seed=0)
  teacher_steps = fit_for(teacher, train, minutes * 60)
  test = data.load("speech", "test", 16, window=window)
  teacher_test = float(teacher.evaluate(test.take(8), verbose=0, return_dict=True)[
      "bits_per_dim"])
  teacher_params = param_count(teacher)     # before a student freezes it
  length = spec.sample_rate
  teacher_s = timed(lambda: teacher.sample(1, length=length, seed=1).numpy(), repeat=3)
  # The teacher's bits per sample on 4 seconds of its own samples and of each student's.
  bits = lambda x: float(np.mean(teacher.bits_per_dim(x)))
  own = teacher.sample(4, length=4 * length, seed=2)
  os.makedirs(OUT, exist_ok=True)
  audio.write_wav(os.path.join(OUT, "parallel_wavenet_teacher.wav"),
                  audio.mu_law_decode(own[0]).numpy(), length)
  out = {"teacher_steps": teacher_steps, "teacher_params": teacher_params,
         "teacher_test_bits_per_sample": teacher_test, "teacher_generation_s": teacher_s,
         "teacher_bits_on_teacher_samples": bits(own), "seconds_generated": 1.0,
         "students": {}}
  for name, layers in STUDENTS.items():
    student = _student(spec, teacher, layers)
    student.compile(default_optimizer(1e-3))
    before = student.evaluate(test.take(4), verbose=0, return_dict=True)
    steps = fit_for(student, train, minutes * 60)
    after = student.evaluate(test.take(4), verbose=0, return_dict=True)
    student_s = timed(lambda: student.sample(1, length=length, seed=1).numpy(), repeat=3)
    theirs = student.sample(4, length=4 * length, seed=2)
    audio.write_wav(os.path.join(OUT, f"parallel_wavenet_{name}.wav"),
                    audio.mu_law_decode(theirs[0]).numpy(), length)
    out["students"][name] = {
        "flow_layers": list(layers), "steps": steps, "params": param_count(student),
        "kl_bits_before": float(before["kl"]), "kl_bits_after": float(after["kl"]),
        "power_before": float(before["power"]), "power_after": float(after["power"]),
        "generation_s": student_s, "speedup": teacher_s / student_s,
        "teacher_bits_on_student_samples": bits(theirs)}
    print("parallel_wavenet", name, out["students"][name], flush=True)
  print("parallel_wavenet", {k: v for k, v in out.items() if k != "students"}, flush=True)
  return out


def parallel_wavenet_speed(minutes=None):
  """Generation time alone, teacher against each student, at the sizes of
  :func:`parallel_wavenet`, untrained (the work done does not depend on the
  weights): for a quiet machine, without the training that comes first."""
  from tfgen import data
  spec = data.info("speech")
  teacher = _teacher(spec)
  length = spec.sample_rate
  out = {"teacher_generation_s": timed(
      lambda: teacher.sample(1, length=length, seed=1).numpy(), repeat=5), "students": {}}
  for name, layers in STUDENTS.items():
    student = _student(spec, teacher, layers)
    s = timed(lambda: student.sample(1, length=length, seed=1).numpy(), repeat=5)
    out["students"][name] = {"flow_layers": list(layers), "generation_s": s,
                             "speedup": out["teacher_generation_s"] / s}
  print("parallel_wavenet_speed", out, flush=True)
  return out


def multiscale(minutes):
  import numpy as np
  from tfgen import data
  from tfgen.autoregressive import MultiscalePixelCNN, PixelCNN
  builds = {
      "multiscale_pixelcnn": lambda shape: MultiscalePixelCNN(
          shape, filters=64, num_layers=6, base_filters=64, base_layers=6),
      "gated_pixelcnn": lambda shape: PixelCNN(shape, filters=64, num_layers=8, gated=True)}
  test = data.load("fashion_mnist", "test", 500, take=2000)
  out = {}
  for name, build in builds.items():
    m = build((28, 28, 1))
    steps = fit_for(m, data.load("fashion_mnist", "train", 32, repeat=True, seed=0),
                    minutes * 60)
    bpd = float(m.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"])
    big = build((64, 64, 1))
    out[name] = {
        "params": param_count(m), "steps": steps, "test_bits_per_dim": bpd,
        "sample_28_s": timed(lambda: m.sample(16, seed=1).numpy(), repeat=2),
        "sample_64_s": timed(lambda: big.sample(16, seed=1).numpy(), repeat=1),
        "network_evaluations_28": getattr(m, "sequential_steps", 28 * 28),
        "network_evaluations_64": getattr(big, "sequential_steps", 64 * 64)}
    print(name, out[name], flush=True)
  return out


def video(minutes):
  from tfgen import data
  from tfgen.autoregressive import VideoPixelNetwork
  from tfgen.training.render import write_samples
  name = "binarized_moving_fashion_mnist_small"
  spec = data.info(name)
  m = VideoPixelNetwork.from_dataset(spec, encoder_filters=32, encoder_layers=4,
                                     lstm_filters=32, decoder_filters=32, decoder_layers=4)
  steps = fit_for(m, data.load(name, "train", 8, repeat=True, seed=0), minutes * 60)
  bpd = float(m.evaluate(data.load(name, "test", 50, take=200), verbose=0,
                         return_dict=True)["bits_per_dim"])
  sample_s = timed(lambda: m.sample(4, seed=1).numpy(), repeat=1)
  prefix = next(iter(data.load(name, "test", 4, take=4))).numpy()[:, :5]
  os.makedirs(OUT, exist_ok=True)
  write_samples(os.path.join(OUT, "video_pixel_network.png"),
                m.sample(4, seed=2, prefix_frames=prefix).numpy(), "video", 2)
  out = {"data": name, "params": param_count(m), "steps": steps, "test_bits_per_dim": bpd,
         "sample_4_videos_s": sample_s, "frames": spec.shape[0],
         "frame_size": spec.shape[1]}
  print("video", out, flush=True)
  return out


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--minutes", type=float, default=4.0)
  p.add_argument("--part", choices=["all", "parallel_wavenet", "parallel_wavenet_speed",
                                     "multiscale", "video"], default="all",
                 help="one part (the others keep their recorded results); "
                      "parallel_wavenet_speed is not part of all")
  args = p.parse_args(argv)
  parts = {"parallel_wavenet": parallel_wavenet, "multiscale": multiscale, "video": video}
  if args.part == "parallel_wavenet_speed":
    parts["parallel_wavenet_speed"] = parallel_wavenet_speed
  result = {"minutes": args.minutes}
  if args.part != "all":
    import json
    from common import RESULTS
    with open(RESULTS) as f:
      old = json.load(f).get("parallel_and_video", {})
    old.pop("machine", None), old.pop("date", None)
    minutes = old.get("minutes", args.minutes) if args.part.endswith("_speed") else args.minutes
    result = {**old, "minutes": minutes, args.part: parts[args.part](args.minutes)}
  else:
    for name, fn in parts.items():
      result[name] = fn(args.minutes)
  record("parallel_and_video", result)


if __name__ == "__main__":
  main()
