# Both entry points build their own virtualenv. torch is installed first — on these machines from
# the CPU wheel of torch 2.13.0 on disk (pip's find-links), elsewhere set TORCH_SPEC / TORCH_INDEX
# to the CPU or CUDA build you want — and every later install is constrained to it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
EXTRAS ?= dev,graph,vision,text,dist
# the real-data mirror, when it sits beside the checkout (CI); real-data tests skip without it
export CASCADEKIT_MIRROR ?= $(wildcard $(abspath ../shared/data))

.PHONY: demo test lint format bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/cascadekit quickstart --out runs/demo
	$(BIN)/cascadekit quickstart --scenario mic --out runs/demo-mic

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest -q -n 2

format: $(BIN)/.installed
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# `make bench` lists every results file and its command; `make bench NAME=<entry>` regenerates
# it (benchmarks/bench.py; entries marked quiet are speed figures for a quiet machine)
bench:
	@test -x $(BIN)/python || $(MAKE) $(BIN)/.installed
	$(BIN)/python benchmarks/bench.py $(NAME)

clean:
	rm -rf $(VENV) runs .pytest_cache
