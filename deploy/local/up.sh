#!/usr/bin/env bash
# Start the local stack (PostgreSQL + Kafka), idempotently, and print the two
# connection strings. A service whose connection string was pointed elsewhere
# (WARDSTREAM_PG_DSN / WARDSTREAM_KAFKA_BOOTSTRAP set to something other than
# the local default) is left alone.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

failed=()

if [ "$WARDSTREAM_PG_DSN" = "$WARDSTREAM_PG_LOCAL_DSN" ]; then
    "$WARDSTREAM_LOCAL_DIR/postgres.sh" start || failed+=(postgres)
else
    ws_log "postgres: WARDSTREAM_PG_DSN points elsewhere, not starting the local cluster"
fi

if [ "$WARDSTREAM_KAFKA_BOOTSTRAP" = "$WARDSTREAM_KAFKA_LOCAL_BOOTSTRAP" ]; then
    "$WARDSTREAM_LOCAL_DIR/kafka.sh" start || failed+=(kafka)
else
    ws_log "kafka: WARDSTREAM_KAFKA_BOOTSTRAP points elsewhere, not starting the local broker"
fi

if [ "${#failed[@]}" -gt 0 ]; then
    ws_log ""
    ws_log "up: FAILED to start: ${failed[*]} (see the messages above)"
    exit 1
fi

echo "WARDSTREAM_KAFKA_BOOTSTRAP=$WARDSTREAM_KAFKA_BOOTSTRAP"
echo "WARDSTREAM_PG_DSN=$WARDSTREAM_PG_DSN"
