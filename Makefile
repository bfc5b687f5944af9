# poolwatch: two commands on a fresh machine: `make demo` and `make test`.
# `make demo` writes its tables and reports under build/demo/.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# Debian packages poolwatch needs at run or test time: WeasyPrint's Pango and a font,
# Graphviz to lay out the decision tree; poppler and a headless Chromium to check reports;
# a C compiler to build the line scanner (src/poolwatch/ingest/_linescan.pyx).
DEBS   := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core graphviz poppler-utils chromium-headless-shell gcc libc6-dev

.PHONY: demo test lint typecheck schema bench bench-dask examples system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml src/poolwatch/ingest/_linescan.pyx | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; fi; \
	fi

demo: system-deps $(STAMP)
	$(BIN)/poolwatch parse sample_logs/ --out build/demo/tables/
	$(BIN)/poolwatch report sample_logs/overloaded --out build/demo/overloaded
	$(BIN)/poolwatch report sample_logs/healthy --out build/demo/healthy
	$(BIN)/poolwatch daily sample_logs/healthy --day 2025-10-14 --tz UTC --store build/demo/store --out build/demo/daily
	@$(BIN)/poolwatch check sample_logs/overloaded; echo "(check exited $$?: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: system-deps lint typecheck
	$(BIN)/python -m pytest

# summary.json's JSON Schema, written from its model (src/poolwatch/render/summary.py) into
# the package: run it after changing the model (a test fails while the two differ).
schema: $(STAMP)
	$(BIN)/python -m poolwatch.render.summary_schema src/poolwatch/data/summary.schema.json

bench: system-deps $(STAMP)
	$(BIN)/python benchmarks/bench.py

# Reading on a Dask cluster of 1 and 2 local workers against reading here (docs/cluster.md).
bench-dask: system-deps $(STAMP)
	$(BIN)/python benchmarks/bench_dask.py

# docs/examples/: one report per simulated scenario, one of five hosts, and the README's first-page image.
SCENARIOS := healthy overloaded memory-pressure timeouts sequential-excessive deadlock
examples: system-deps $(STAMP)
	@for s in $(SCENARIOS); do \
	  rm -rf build/examples/$$s && \
	  $(BIN)/poolwatch simulate --scenario $$s --instances 8 --runs 5 --seed 3 --out build/examples/$$s/logs >/dev/null && \
	  SOURCE_DATE_EPOCH=1764547200 $(BIN)/poolwatch report build/examples/$$s/logs --out build/examples/$$s/report --format pdf >/dev/null && \
	  cp build/examples/$$s/report/report.pdf docs/examples/$$s.pdf && echo "docs/examples/$$s.pdf"; \
	done
	@rm -rf build/examples/hosts && \
	  $(BIN)/poolwatch simulate --hosts 5 --instances 8 --runs 5 --seed 3 --out build/examples/hosts/logs >/dev/null && \
	  SOURCE_DATE_EPOCH=1764547200 $(BIN)/poolwatch report build/examples/hosts/logs --out build/examples/hosts/report --format pdf >/dev/null && \
	  cp build/examples/hosts/report/report.pdf docs/examples/hosts.pdf && echo "docs/examples/hosts.pdf"
	pdftoppm -png -r 60 -f 1 -l 1 -singlefile docs/examples/overloaded.pdf docs/examples/overloaded-page1

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
