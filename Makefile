# The two commands: `make compile` (slos/ -> output/) and `make test`; `make diff BASE=ref` for review.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: compile check test diff promtool clean

compile: $(VENV)/.installed
	$(BIN)/slo compile

check: compile promtool
	$(BIN)/slo check

test: $(VENV)/.installed promtool
	$(BIN)/python -m pytest -q

# What the SLO changes mean against a git ref, as Markdown for review: make diff BASE=origin/main
BASE ?= main
diff: $(VENV)/.installed
	@$(BIN)/slo diff $(BASE)

# The virtual environment, rebuilt when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# promtool and prometheus come from the Debian package (git for the tests of slo diff); installed
# here when running as root.
promtool:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v git >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing the prometheus and git packages (promtool, prometheus, git)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus git >/dev/null; \
	  else \
	    echo "promtool, prometheus and git are needed: install them (Debian/Ubuntu: sudo apt-get install prometheus git)" >&2; \
	    exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) .pytest_cache
