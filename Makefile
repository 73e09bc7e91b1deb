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

# A shorter market than the command's defaults (2 sellers x 50 SKUs x 14 days, which
# takes ≈ 5 min on moto; docs/PERFORMANCE.md): `make demo DEMO_ARGS=` runs the full default.
DEMO_ARGS ?= --sellers 2 --skus 10 --days 2

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
