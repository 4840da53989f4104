"""Folders of WAV files as μ-law training windows."""

import glob
import os


from tfgen import audio

ASTERISK_DIR = "/usr/share/asterisk/sounds/en_US_f_Allison"


def load_wav_folder(directory, sample_rate=8000, levels=256, min_samples=1):
  """Reads every ``*.wav`` below ``directory`` into a list of μ-law code arrays.

  Each file is downmixed to mono, resampled to ``sample_rate`` and μ-law
  encoded. Every file is checked before anything is returned, so a bad file
  never stops training halfway through a dataset. Clips shorter than
  ``min_samples`` are left out.

  Raises:
    FileNotFoundError: no WAV files in ``directory``.
    ValueError: unreadable or empty files (all listed by name), or no clip
      of at least ``min_samples``.
  """
  paths = sorted(glob.glob(os.path.join(os.fspath(directory), "**", "*.wav"), recursive=True))
  if not paths:
    hint = (" Install the Debian package asterisk-core-sounds-en-wav for an offline speech "
            "corpus." if os.fspath(directory) == ASTERISK_DIR else "")
    raise FileNotFoundError(f"No .wav files under {os.fspath(directory)!r}.{hint}")
  clips, problems = [], []
  for path in paths:
    try:
      samples, rate = audio.read_wav(path)
    except ValueError as e:
      problems.append(str(e))
      continue
    codes = audio.resampled_codes(samples.numpy(), rate, sample_rate, levels)
    if len(codes) >= min_samples:
      clips.append(codes)
  if problems:
    raise ValueError(f"{len(problems)} of {len(paths)} WAV files cannot be used:\n  "
                     + "\n  ".join(problems[:20]))
  if not clips:
    raise ValueError(f"No WAV file under {os.fspath(directory)!r} has {min_samples} samples "
                     f"at {sample_rate} Hz; use a shorter window.")
  return clips
