# Benchmarks (see bench/). `make bench` runs them all on this machine, writes
# bench/results.json and regenerates the README's results table.
PY ?= .venv/bin/python
MINUTES ?= 10
SEQ_MINUTES ?= 3

.PHONY: bench test zoo accelerator
bench:
	$(PY) bench/training_throughput.py
	$(PY) bench/training_throughput.py --isa avx2 --only tfgen_glow tfp_glow
	$(PY) bench/step_profile.py
	$(PY) bench/step_profile.py --isa avx2
	$(PY) bench/quality_budget.py --minutes $(MINUTES)
	$(PY) bench/pixelcnn_sampling.py
	$(PY) bench/wavenet_generation.py
	$(PY) bench/sequence_models.py --minutes $(SEQ_MINUTES)
	$(PY) bench/vqvae.py --minutes $(SEQ_MINUTES)
	$(PY) bench/autoregressive_flows.py --minutes 4
	$(PY) bench/parallel_and_video.py --minutes 4
	$(PY) bench/stock_optimizer.py
	$(PY) bench/first_step.py
	$(PY) bench/report.py --readme
	$(PY) bench/report.py

test:
	$(PY) -m pytest

# The pretrained models in saved_models/ (about an hour on 2 CPU cores; each
# run exports the next version, cards in saved_models/NAME/MODEL_CARD.md).
zoo:
	$(PY) bench/zoo.py --parallel

# One command on a GPU machine (after `pip install -e ".[gpu]"`): every
# family's throughput, MFU, memory and sampling in at most 5 minutes.
accelerator:
	$(PY) bench/accelerator.py
	$(PY) bench/report.py --readme
