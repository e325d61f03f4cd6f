# shellcheck shell=bash
# Helpers shared by deploy/local/*.sh and deploy/bootstrap.sh.
# Sources env.sh, then defines functions only.

# env.sh only fills in what is unset, so sourcing it again is harmless.
# shellcheck source=deploy/local/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

WARDSTREAM_LOCAL_DIR="$WARDSTREAM_REPO/deploy/local"

ws_log() { printf '%s\n' "$*" >&2; }
ws_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
ws_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        ws_die "need root (or sudo) to run: $*"
    fi
}

# apt-get update at most once per process tree (WARDSTREAM_APT_UPDATED is
# exported so bootstrap.sh -> kafka.sh -> ... do not repeat it).
ws_apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || ws_die "apt-get not found; install these packages by hand: $*"
    if [ "${WARDSTREAM_APT_UPDATED:-0}" != 1 ]; then
        ws_log "apt-get update"
        ws_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
            || ws_die "apt-get update failed"
        export WARDSTREAM_APT_UPDATED=1
    fi
    ws_log "apt-get install $*"
    ws_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null \
        || ws_die "apt-get install $* failed"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
ws_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True if the pid in file $1 is alive and its command line contains $2.
ws_pid_alive() {
    local pidfile=$1 pattern=$2 pid
    [ -s "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"
}

ws_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- Java / Kafka

ws_ensure_java() {
    command -v java >/dev/null 2>&1 || ws_apt_install openjdk-17-jre-headless
}

# Resolve the Kafka broker jars (deploy/local/kafka/pom.xml) into
# $WARDSTREAM_KAFKA_LIB with Maven, unless that dir is already complete for the
# current pom. The stamp file holds the pom's sha256 and the jar count.
kafka_ensure_jars() {
    local pom="$WARDSTREAM_LOCAL_DIR/kafka/pom.xml"
    local lib="$WARDSTREAM_KAFKA_LIB" stamp="$WARDSTREAM_KAFKA_LIB/.wardstream-stamp"
    local want have count tmp
    want=$(ws_sha256 "$pom")
    if [ -f "$stamp" ]; then
        have=$(sed -n 's/^pom_sha256=//p' "$stamp")
        count=$(sed -n 's/^jars=//p' "$stamp")
        if [ "$have" = "$want" ] && [ -n "$count" ] \
            && [ "$(find "$lib" -maxdepth 1 -name '*.jar' | wc -l)" -eq "$count" ]; then
            return 0
        fi
    fi
    ws_ensure_java
    command -v mvn >/dev/null 2>&1 || ws_apt_install maven
    ws_log "kafka: resolving broker jars with Maven into $lib (first run only)"
    mkdir -p "$(dirname "$lib")"
    tmp="$lib.tmp.$$"
    rm -rf "$tmp"
    if ! mvn -B -q -f "$pom" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime >"$tmp.mvn.log" 2>&1; then
        tail -n 40 "$tmp.mvn.log" >&2
        rm -rf "$tmp" "$tmp.mvn.log"
        ws_die "kafka: Maven could not resolve the broker jars (see above)"
    fi
    rm -f "$tmp.mvn.log"
    count=$(find "$tmp" -maxdepth 1 -name '*.jar' | wc -l)
    [ "$count" -gt 0 ] || { rm -rf "$tmp"; ws_die "kafka: Maven produced no jars"; }
    printf 'pom_sha256=%s\njars=%s\n' "$want" "$count" >"$tmp/.wardstream-stamp"
    rm -rf "$lib"
    mv "$tmp" "$lib"
    ws_log "kafka: $count jars in $lib"
}

# ------------------------------------------------------------------ PostgreSQL

# Sets PG_BIN to the newest /usr/lib/postgresql/*/bin that has initdb and
# pg_ctl, installing Debian's postgresql package when there is none.
pg_find_bin() {
    local d
    PG_BIN=$(for d in /usr/lib/postgresql/*/bin; do
                 [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
             done | sort -V | tail -n 1)
    if [ -z "$PG_BIN" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(command -v initdb)")
    fi
    [ -n "$PG_BIN" ]
}

pg_ensure_installed() {
    pg_find_bin && return 0
    ws_apt_install postgresql
    pg_find_bin || ws_die "postgresql installed but initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"
}

# The OS user that runs the cluster: postgres when we are root (PostgreSQL
# refuses to run as root), ourselves otherwise.
pg_ensure_os_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    id -u "$WARDSTREAM_PG_OS_USER" >/dev/null 2>&1 && return 0
    ws_log "creating OS user $WARDSTREAM_PG_OS_USER"
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
        --shell /bin/bash "$WARDSTREAM_PG_OS_USER" \
        || ws_die "could not create OS user $WARDSTREAM_PG_OS_USER"
}

# Run a command as the cluster's OS user.
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$WARDSTREAM_PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}
