#!/usr/bin/env bash
# Run a command with the local stack up, then stop only what this invocation
# started (a stack you had already started stays up), and exit with the
# command's status.   deploy/local/with-stack.sh .venv/bin/pytest -q
set -euo pipefail

# shellcheck source=deploy/local/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }

started=()
if [ "$WARDSTREAM_PG_DSN" = "$WARDSTREAM_PG_LOCAL_DSN" ] \
    && ! "$WARDSTREAM_LOCAL_DIR/postgres.sh" status >/dev/null 2>&1; then
    started+=(postgres)
fi
if [ "$WARDSTREAM_KAFKA_BOOTSTRAP" = "$WARDSTREAM_KAFKA_LOCAL_BOOTSTRAP" ] \
    && ! "$WARDSTREAM_LOCAL_DIR/kafka.sh" status >/dev/null 2>&1; then
    started+=(kafka)
fi

# shellcheck disable=SC2317  # called through the trap
cleanup() {
    local s
    for s in "${started[@]}"; do
        "$WARDSTREAM_LOCAL_DIR/$s.sh" stop || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$WARDSTREAM_LOCAL_DIR/up.sh"

set +e
"$@"
status=$?
set -e
exit "$status"
