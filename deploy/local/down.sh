#!/usr/bin/env bash
# Stop the local stack. With --purge, also delete its data dirs (Kafka topics,
# PostgreSQL cluster); the Kafka jar cache ($WARDSTREAM_KAFKA_LIB) is kept.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

action=stop
case "${1:-}" in
    "") ;;
    --purge) action=purge ;;
    *)
        echo "usage: $0 [--purge]" >&2
        exit 2
        ;;
esac

rc=0
"$WARDSTREAM_LOCAL_DIR/kafka.sh" "$action" || rc=1
"$WARDSTREAM_LOCAL_DIR/postgres.sh" "$action" || rc=1
[ "$rc" -eq 0 ] || ws_log "down: something failed to stop (see above)"
exit "$rc"
