# Shared by scripts/deps, scripts/stack and scripts/dev: paths and small helpers.
# shellcheck shell=bash

PH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PH_CACHE=${PRODENTHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prodenthub}

# DynamoDB Local, as shipped inside this exact npm package (see scripts/deps).
DDB_PKG=amplify-dynamodb-simulator
DDB_PKG_VERSION=2.9.30
DDB_PKG_INTEGRITY=sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==
DDB_DIR=${DYNAMODB_LOCAL_DIR:-$PH_CACHE/dynamodb-local-$DDB_PKG_VERSION}
LOOPBACK_SO=$PH_CACHE/libloopback-bind.so

# The local services from npm (scripts/node: maildev, s3rver), installed by scripts/deps
# with npm ci into a folder named after the lock file's hash: a new lock, a new install.
NODE_DIR=$PH_CACHE/node-$(sha256sum "$PH_ROOT/scripts/node/package-lock.json" | cut -c1-16)

# Debian's python3 (with python3-botocore and friends), not another one earlier on PATH.
PH_PYTHON=${PYTHON3:-/usr/bin/python3}

ph_say() { printf '%s\n' "$*" >&2; }
ph_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A free TCP port on 127.0.0.1 (the kernel picks; a race with another process is unlikely).
ph_free_port() {
    "$PH_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait until 127.0.0.1:$1 accepts connections, or fail after $2 seconds (default 30).
ph_wait_port() {
    local port=$1 limit=${2:-30} i
    for ((i = 0; i < limit * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}
