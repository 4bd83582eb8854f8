# Two commands do everything on a fresh machine:  `make book`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dlic-installed
PROFILE ?= quick
PYTEST_ARGS ?=

.PHONY: book test data install clean-book help

help:
	@echo "make book   - set up .venv, fetch the data, run every notebook (PROFILE=$(PROFILE)) and build book/_build/html"
	@echo "make test   - set up .venv and run the whole test suite"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

data: $(STAMP)
	$(BIN)/dlic data fetch --all --keep-going

book: data
	$(BIN)/dlic book --profile $(PROFILE)
	@echo "book: open book/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-book:
	rm -rf book/_build book/chapters book/_static/plotly.min.js
