# Two commands on a fresh machine: `make run` (set up, load the demo, serve it) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENDOR := src/yuqing/web/static/vendor
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install assets browser lint typecheck bench clean

run: install assets
	$(BIN)/yuqing demo --host $(HOST) --port $(PORT)

test: install assets browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Front-end libraries come from the npm registry at build time, never from the repository.
assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

$(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js &: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/

# Headless Chromium for the UI tests: Debian's package (Playwright drives /usr/bin/chromium).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "请以 root 安装 chromium（apt-get install chromium），否则浏览器测试会失败"; fi; }

lint:
	$(BIN)/ruff check src tests benchmarks

typecheck:
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
