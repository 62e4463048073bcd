# smsbot: `make run` starts the server, `make test` runs the suite. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint docs check bench bench-campaigns bench-events bench-dashboard bench-deps browser-deps screenshots clean catalogs

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "smsbot needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# After changing what smsbot says (bot/domain/replies.py): refresh the template and every catalog, then
# translate the new or fuzzy entries in locales/<lang>/LC_MESSAGES/messages.po (smsbot reads the
# .po files themselves: there is nothing to compile).
catalogs: $(STAMP)
	$(BIN)/pybabel extract -k N_ --no-location --sort-output --project=smsbot -o locales/messages.pot bot/domain/replies.py
	$(BIN)/pybabel update -i locales/messages.pot -d locales --width 100 --ignore-obsolete

run: install
	$(BIN)/smsbot serve

test: lint docs browser-deps
	$(BIN)/python -m pytest

# The documentation site (MkDocs, Material theme) from docs/: a broken link or anchor fails it.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The dashboard's tests drive a real headless Chromium: Debian's, installed here if missing.
browser-deps:
	@command -v chromium >/dev/null || { echo "installing chromium"; (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; }

# Style, complexity (C901, PLR) and formatting with ruff; types with mypy strict over bot, tests, bench.
lint: install
	$(BIN)/ruff check bot tests bench docs
	$(BIN)/ruff format --check bot tests bench docs
	$(BIN)/mypy

check: install
	$(BIN)/smsbot check

# Benchmarks drive a real server with wrk (from Debian's packages, installed here if missing).
bench-deps: install
	@command -v wrk >/dev/null || { echo "installing wrk"; (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null; }

bench: bench-deps
	$(BIN)/python bench/keywords.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/worker.py

# Segments and campaigns: a million-subscriber list (SQLite, and PostgreSQL where DATABASE_URL
# points), then a 100,000-recipient campaign. Long: the list alone takes ten minutes to build.
bench-campaigns: bench-deps
	$(BIN)/python bench/segments.py
	$(BIN)/python bench/campaign.py

# Store events in through the API and Shopify's webhooks, and 100,000 orders attributed.
bench-events: bench-deps
	$(BIN)/python bench/events.py

# Every dashboard page timed on a million subscribers (SQLite, and PostgreSQL where DATABASE_URL
# points). Long: the list takes ten minutes to build on each.
bench-dashboard: install
	$(BIN)/python bench/dashboard.py

# The README's dashboard screenshots, from a demonstration program (docs/screenshots.py).
screenshots: browser-deps
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
