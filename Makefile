# The two commands: `make compile` (slos/ -> output/) and `make test`; `make diff BASE=ref` for review.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: compile check test diff bench install venv promtool clean

compile: $(VENV)/.installed
	$(BIN)/slo compile

# promtool on output/; with BASE (make check BASE=origin/main) the unit tests only of the SLOs changed since it.
check: compile promtool
	$(BIN)/slo check $(if $(BASE),--changed $(BASE))

test: $(VENV)/.installed-test promtool
	$(BIN)/python -m pytest -q

# What the SLO changes mean against a git ref, as Markdown for review: make diff BASE=origin/main
diff: $(VENV)/.installed
	@$(BIN)/slo diff $(or $(BASE),main)

# Compile speed and rule evaluation cost against their baselines (docs/performance.md); not a test.
bench: $(VENV)/.installed promtool
	$(BIN)/python -m bench

# `slo` on the PATH: a link in BINDIR to the one in .venv, which follows this checkout.
BINDIR ?= $(HOME)/.local/bin
install: $(VENV)/.installed
	mkdir -p $(BINDIR)
	ln -sf $(abspath $(BIN))/slo $(BINDIR)/slo

venv: $(VENV)/.installed

# The virtual environment with what compiling needs, rebuilt when the dependencies change; the
# test extras only for make test.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# promtool, prometheus and alertmanager come from Debian packages (git for the tests of slo diff);
# installed here when running as root.
promtool:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v git >/dev/null \
	  && command -v prometheus-alertmanager >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing the prometheus, prometheus-alertmanager and git packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus \
	      prometheus-alertmanager git >/dev/null; \
	  else \
	    echo "promtool, prometheus, alertmanager and git are needed: install them (Debian/Ubuntu: sudo" \
	      "apt-get install prometheus prometheus-alertmanager git)" >&2; \
	    exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) .pytest_cache
