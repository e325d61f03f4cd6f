# wardstream developer entry points. Everything runs without Docker:
# see docs/local-stack.md.
#
#   make bootstrap   install system packages, Kafka jars and .venv (idempotent)
#   make up / down   start / stop the local Kafka + PostgreSQL (down PURGE=1 deletes data)
#   make test        bootstrap, up, pytest, then down again if this run started the stack
#   make lint        ruff + mypy
#   make demo        bootstrap, up, wardstream demo

SHELL := /bin/bash
VENV ?= .venv
PYTEST_ARGS ?=

export WARDSTREAM_VENV := $(abspath $(VENV))

.PHONY: bootstrap up down test lint demo

bootstrap:
	deploy/bootstrap.sh

up:
	deploy/local/up.sh

down:
	deploy/local/down.sh $(if $(PURGE),--purge)

# with-stack.sh looks at which services are already running before `up`, stops
# only those it started, and exits with pytest's own status.
test: bootstrap
	deploy/local/with-stack.sh $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check . && $(VENV)/bin/mypy

demo: bootstrap up
	$(VENV)/bin/wardstream demo
