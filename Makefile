# Two commands for a newcomer: `make run` and `make test`. Each sets everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: install fonts run test lint browser pgclient wrk bench crash fuzz audit messages clean

# The C part (tlog's batch hashing) is compiled by the install, so an edit to it reinstalls.
# It is optional: without a compiler or OpenSSL's headers the install says so and goes on.
NO_C := install: tlog/_sha256batch.c did not build (no C compiler or OpenSSL headers: apt-get \
	install gcc libssl-dev), so the log hashes with hashlib: the same hashes, several times slower
$(STAMP): pyproject.toml constraints.txt setup.py src/healthcode/tlog/_sha256batch.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@$(BIN)/python -c 'import healthcode.tlog._sha256batch' 2>/dev/null || echo "$(NO_C)"
	touch $(STAMP)

## install: create .venv with the pinned dependencies (the CLI is then .venv/bin/healthcode),
## and the font the identity cards are printed with
install: $(STAMP) fonts

# The printable identity card (web/cards.py) draws the masked name and its words in Chinese,
# and the browser tests' screenshots show Chinese pages, with a Chinese font: Debian's
# fonts-wqy-microhei. Only root can install it (CI runs as root); elsewhere the install says what
# to run and goes on: without the font the server refuses to print a card (card.font_missing)
# rather than print one without its holder's name, and the card tests fail when CI=true.
fonts:
	@if fc-list :lang=zh | grep -q .; then :; \
	elif test "$$(id -u)" = 0; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-wqy-microhei; \
	else echo "fonts: run 'apt-get install fonts-wqy-microhei' as root: identity cards are printed with it"; fi

## run: build the demo city into the SQLite default if it is empty, then serve it
run: install
	$(BIN)/healthcode demo
	$(BIN)/healthcode serve

## test: lint, type-check, check the architecture, and run the whole suite (SQLite and PostgreSQL)
test: install lint browser pgclient
	$(BIN)/pytest

# The browser tests drive Debian's own chromium: a browser build downloaded by Playwright would
# be an unpinned binary from outside the package registries, so it is never used. Only root can
# install (CI runs as root); elsewhere the browser tests skip, unless CI=true.
CHROMIUM := /usr/bin/chromium
browser: fonts
	@if test -x $(CHROMIUM); then :; \
	elif test "$$(id -u)" = 0; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else echo "browser: run 'apt-get install chromium' as root for the browser tests"; fi

# Backup and restore on PostgreSQL run pg_dump and pg_restore (tests/services/test_backup.py);
# Debian's postgresql-client provides them. As with the browser, only root installs them.
pgclient:
	@if command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; then :; \
	elif test "$$(id -u)" = 0; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client; \
	else echo "pgclient: run 'apt-get install postgresql-client' as root for the PostgreSQL backup tests"; fi

lint: install
	$(BIN)/ruff check src tests bench crash
	$(BIN)/ruff format --check src tests bench crash
	$(BIN)/mypy src/healthcode
	$(BIN)/lint-imports

# The HTTP load benchmark (bench/http_load.py) drives the server with Debian's wrk: a load
# generator in Python would be the bottleneck on two cores. As with the browser, only root
# installs it; without it that benchmark fails and says so.
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif test "$$(id -u)" = 0; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk; \
	else echo "wrk: run 'apt-get install wrk' as root for the HTTP load benchmark"; fi

## bench: run the benchmarks (B=name for one); results in bench/results/<name>.json
bench: install wrk
	$(BIN)/python -m bench $(if $(B),--only $(B))

## crash: kill -9 the real server under load and check nothing was lost (N=trials per backend)
crash: install
	$(BIN)/python -m crash $(if $(N),--trials $(N))

## fuzz: schemathesis over /openapi.json as every role, 2000 examples an operation (E=examples),
## on SQLite and PostgreSQL; `make test` runs the same with 100 on SQLite
fuzz: install
	HEALTHCODE_FUZZ_EXAMPLES=$(or $(E),2000) HEALTHCODE_FUZZ_BACKENDS=sqlite,postgres \
		$(BIN)/pytest tests/fuzz -rP

## audit: check every installed dependency against the PyPI advisory data (pip-audit, pinned);
## --strict: a dependency that cannot be checked (no network, a mirror without advisories) fails
audit: install
	$(BIN)/python -m pip install --quiet -c constraints.txt pip-audit
	$(BIN)/pip-audit --local --strict --progress-spinner off

## messages: extract page strings and merge them into the zh-CN and en catalogues
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k Detail --no-location --sort-output --no-wrap -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d src/healthcode/locale --no-wrap --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache build src/healthcode/tlog/*.so
