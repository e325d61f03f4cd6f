#!/usr/bin/env bash
# Install everything wardstream needs on this machine, from nothing. Idempotent
# and quiet when there is nothing to do:
#   - Debian packages when missing: postgresql, a Java runtime, Maven
#     (one `apt-get update`, DEBIAN_FRONTEND=noninteractive);
#   - the Kafka broker jars, through Maven, into $WARDSTREAM_KAFKA_LIB;
#   - the virtualenv $WARDSTREAM_VENV (default .venv) with `pip install -e '.[dev]'`,
#     skipped while pyproject.toml is unchanged since the last install.
# Python: $WARDSTREAM_BOOTSTRAP_PYTHON, else python3.11, else python3 (>= 3.11).
set -euo pipefail

# shellcheck source=deploy/local/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/local/common.sh"

cd "$WARDSTREAM_REPO"

# ---- Debian packages
pkgs=()
pg_find_bin || pkgs+=(postgresql)
command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
if [ "${#pkgs[@]}" -gt 0 ]; then
    ws_apt_install "${pkgs[@]}"
fi
pg_ensure_installed
pg_ensure_os_user

# ---- Kafka broker jars (same function kafka.sh start uses)
kafka_ensure_jars

# ---- Python virtualenv
pick_python() {
    local c
    for c in ${WARDSTREAM_BOOTSTRAP_PYTHON:-} python3.11 python3; do
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

venv="$WARDSTREAM_VENV"
stamp="$venv/.wardstream-pyproject.sha256"
want=$(ws_sha256 pyproject.toml)

if [ ! -x "$venv/bin/python" ]; then
    py=$(pick_python) || ws_die "bootstrap: need Python >= 3.11 (python3.11 or python3; or set WARDSTREAM_BOOTSTRAP_PYTHON)"
    ws_log "bootstrap: creating $venv with $($py --version 2>&1)"
    if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
        # Debian's own python3 ships venv/ensurepip separately.
        rm -rf "$venv"
        ws_apt_install python3-venv
        "$py" -m venv "$venv" || ws_die "bootstrap: could not create $venv"
    fi
    rm -f "$stamp"
fi

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    ws_log "bootstrap: pip install -e '.[dev]' into $venv"
    log="$venv/pip-install.log"
    if ! { "$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip \
            && "$venv/bin/python" -m pip install --disable-pip-version-check -q -e '.[dev]'; } \
            >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        ws_die "bootstrap: pip install failed (full log: $log)"
    fi
    echo "$want" >"$stamp"
fi
