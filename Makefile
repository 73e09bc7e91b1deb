# sellerops — the two commands of the README are `make demo` and `make test`.
# Each creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint check-template unit bench local clean

$(STAMP): pyproject.toml functions/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The command's defaults: 2 sellers x 50 SKUs x a simulated fortnight, ≈ 2 min on 2 cores
# (docs/PERFORMANCE.md, "Demo"); e.g. `make demo DEMO_ARGS="--skus 10 --days 2"` for a
# shorter market (≈ 15 s).
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/sellerops demo $(DEMO_ARGS)

local: $(STAMP)
	$(BIN)/sellerops local

test: $(STAMP) lint check-template
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

check-template: $(STAMP)
	bash scripts/check-template.sh

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

bench: $(STAMP)
	$(BIN)/python bench/coldstart.py

clean:
	rm -rf $(VENV) .venv-* .aws-sam out .pytest_cache .ruff_cache .hypothesis

.PHONY: sam-build
sam-build: $(STAMP)
	bash scripts/sam-build.sh
