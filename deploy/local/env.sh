# shellcheck shell=bash
# Settings of the local wardstream stack (Kafka + PostgreSQL).
#
# Sourced by every script under deploy/local/ and by deploy/bootstrap.sh; you
# can also source it in your own shell:  . deploy/local/env.sh
# Every value has a default and can be overridden from the environment.
# Only variables are set here (no `set -e`, no side effects), so sourcing it
# into an interactive shell is safe.

# Repository root: two levels above this file.
WARDSTREAM_REPO="${WARDSTREAM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}"

# Project-owned state (git-ignored): data dirs, logs, pid files, jar cache.
: "${WARDSTREAM_HOME:=$WARDSTREAM_REPO/.local}"

# Kafka (single KRaft node, broker + controller in one JVM).
: "${WARDSTREAM_KAFKA_PORT:=19092}"
: "${WARDSTREAM_KAFKA_CONTROLLER_PORT:=19093}"
: "${WARDSTREAM_KAFKA_DATA:=$WARDSTREAM_HOME/kafka}"
: "${WARDSTREAM_KAFKA_LIB:=$WARDSTREAM_HOME/kafka-lib}"
: "${WARDSTREAM_KAFKA_HEAP_OPTS:=-Xmx512m -Xms512m}"
: "${WARDSTREAM_KAFKA_START_TIMEOUT:=90}"

# PostgreSQL (a private cluster, never the system one).
: "${WARDSTREAM_PG_PORT:=54329}"
if [ -z "${WARDSTREAM_PG_DATA:-}" ]; then
    WARDSTREAM_PG_DATA="$WARDSTREAM_HOME/pg"
    WARDSTREAM_PG_DATA_IS_DEFAULT=1
fi
: "${WARDSTREAM_PG_DATA_IS_DEFAULT:=0}"
# Unix socket dir: beside the data dir (inside its parent), owned by postgres.
: "${WARDSTREAM_PG_SOCKET_DIR:=$(dirname "$WARDSTREAM_PG_DATA")/pg-socket}"
: "${WARDSTREAM_PG_USER:=wardstream}"
: "${WARDSTREAM_PG_PASSWORD:=wardstream}"
: "${WARDSTREAM_PG_MIGRATOR_USER:=wardstream_migrator}"
: "${WARDSTREAM_PG_DB:=wardstream}"
# OS user that owns and runs the cluster when we are root.
: "${WARDSTREAM_PG_OS_USER:=postgres}"

# Python: the project's virtualenv, when it exists.
: "${WARDSTREAM_VENV:=$WARDSTREAM_REPO/.venv}"
if [ -z "${WARDSTREAM_PYTHON:-}" ] && [ -x "$WARDSTREAM_VENV/bin/python" ]; then
    WARDSTREAM_PYTHON="$WARDSTREAM_VENV/bin/python"
fi
: "${WARDSTREAM_PYTHON:=}"

# Connection strings for the application and the tests. Set these two yourself
# to point everything at an existing Kafka / PostgreSQL instead: up.sh, down.sh
# and with-stack.sh then leave the corresponding local service alone.
WARDSTREAM_KAFKA_LOCAL_BOOTSTRAP="127.0.0.1:$WARDSTREAM_KAFKA_PORT"
WARDSTREAM_PG_LOCAL_DSN="postgresql://$WARDSTREAM_PG_USER:$WARDSTREAM_PG_PASSWORD@127.0.0.1:$WARDSTREAM_PG_PORT/$WARDSTREAM_PG_DB"
: "${WARDSTREAM_KAFKA_BOOTSTRAP:=$WARDSTREAM_KAFKA_LOCAL_BOOTSTRAP}"
: "${WARDSTREAM_PG_DSN:=$WARDSTREAM_PG_LOCAL_DSN}"

export WARDSTREAM_REPO WARDSTREAM_HOME \
    WARDSTREAM_KAFKA_PORT WARDSTREAM_KAFKA_CONTROLLER_PORT WARDSTREAM_KAFKA_DATA \
    WARDSTREAM_KAFKA_LIB WARDSTREAM_KAFKA_HEAP_OPTS WARDSTREAM_KAFKA_START_TIMEOUT \
    WARDSTREAM_PG_PORT WARDSTREAM_PG_DATA WARDSTREAM_PG_DATA_IS_DEFAULT \
    WARDSTREAM_PG_SOCKET_DIR WARDSTREAM_PG_USER WARDSTREAM_PG_PASSWORD WARDSTREAM_PG_DB \
    WARDSTREAM_PG_MIGRATOR_USER \
    WARDSTREAM_PG_OS_USER WARDSTREAM_VENV WARDSTREAM_PYTHON \
    WARDSTREAM_KAFKA_LOCAL_BOOTSTRAP WARDSTREAM_PG_LOCAL_DSN \
    WARDSTREAM_KAFKA_BOOTSTRAP WARDSTREAM_PG_DSN
