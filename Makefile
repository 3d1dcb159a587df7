# The two commands of the quick start:  `make demo`  and  `make test`.
# Each runs scripts/setup.sh first, which installs whatever is missing.
.PHONY: setup demo test bench bench-smoke help

PY := .venv/bin/python

help:
	@echo "make demo   - set up, then train a deep autoencoder on MNIST 5k and evaluate it"
	@echo "make test   - set up, then run the test suite"
	@echo "make bench  - set up, then run the benchmarks in benchmarks/"
	@echo "make bench-smoke - set up, then run every benchmark at toy size (do they still run?)"

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/aekit demo

test: setup
	$(PY) -m pytest -n 2 --durations=15 -q

bench: setup
	$(PY) benchmarks/train_throughput.py

bench-smoke: setup
	scripts/bench_smoke.sh
