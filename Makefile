# immunoprecise — two entry points: `make run` (evaluate the bundled examples) and `make test`.
# Both create .venv and install the pinned versions of constraints.txt (regenerate: make lock).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
EXAMPLES := $(sort $(wildcard src/immunoprecise/data/examples/*.json))
CHECKED := src tests scripts benchmarks

.PHONY: run test lint typecheck kb unit schema docs site release-check audit fuzz bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/immunoprecise evaluate $(EXAMPLES) --simulate --format json --format html --out $(OUT)
	@echo "Evaluations of $(words $(EXAMPLES)) example patients are in $(CURDIR)/$(OUT)/ (open the .html files in a browser)."

test: lint typecheck kb unit

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

kb: $(VENV)/.installed-test
	$(BIN)/immunoprecise kb validate --strict

unit: $(VENV)/.installed-test
	$(BIN)/pytest

schema: $(VENV)/.installed
	$(BIN)/immunoprecise schema --out docs/schema

docs: $(VENV)/.installed
	$(BIN)/python scripts/update_readme.py
	$(BIN)/python scripts/make_example_docs.py

# the documentation site (MkDocs Material) into site/; the tests build it too, with --strict
site: $(VENV)/.installed-test
	$(BIN)/python scripts/kb_pages.py
	$(BIN)/mkdocs build --strict

# beyond `make test`, run by CI after it: the built wheel installed in a fresh venv, the strict
# documentation build with its tutorials, the API fuzzing and the kill -9 tests (tests marked
# `release`: minutes each, kept out of `make test` to keep it under 20 minutes on 2 cores), and
# the generated bad-input tests at 10,000 cases per entry point (500 in `make test`)
release-check: $(VENV)/.installed-test
	$(BIN)/pytest -m release
	IMMUNOPRECISE_FUZZ_EXAMPLES=10000 $(BIN)/pytest tests/records/test_adversarial_input.py

# known vulnerabilities of the pinned dependencies (needs the PyPI JSON API or OSV)
audit: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[audit]'
	$(BIN)/pip-audit -r constraints.txt --strict

# coverage-guided fuzzing of the parsers (atheris), 60 s per parser; not a test
fuzz: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[fuzz]'
	$(BIN)/python benchmarks/fuzz_parsers.py 60

# the quick benchmark with its side-by-side tools (TIDE); the others: see benchmarks/RESULTS.md
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/icb_response.py

lock:
	uv pip compile pyproject.toml --extra test --extra bench --extra pdf --extra audit --extra fuzz \
	  --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu -o constraints.txt --no-header

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .pytest_cache .ruff_cache
