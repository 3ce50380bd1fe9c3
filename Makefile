# The two commands of README.md: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test lint translations extract-messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

translations: $(VENV)/.runtime
	$(BIN)/pybabel compile --domain messages -d coop_app/translations

# Migrate the embedded database, seed the demo once, print the demo logins, serve.
run: $(VENV)/.runtime translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo "Demo logins (username, password):"
	@cat instance/demo-logins.txt 2>/dev/null || echo "  (no demo logins: this database was not seeded by make run)"
	@echo "Serving at http://127.0.0.1:$(PORT)"
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: $(VENV)/.dev translations
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Refresh the catalogue after adding or changing user-visible text.
extract-messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k N_plural:1,2 --no-location --sort-output -o coop_app/translations/messages.pot .
	$(BIN)/pybabel update -i coop_app/translations/messages.pot -d coop_app/translations --no-fuzzy-matching --ignore-obsolete

# Measure the speed figures of QUALITY.md against baselines of the same run (benchmarks/README.md).
# Not part of `make test`. Options go through BENCH_ARGS, e.g. BENCH_ARGS="--members 2000 --duration 5".
bench: $(VENV)/.dev translations
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "bench: installing Debian's wrk"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
		else \
			echo "make bench needs wrk (the load generator): sudo apt-get install wrk" >&2; exit 1; \
		fi; }
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
