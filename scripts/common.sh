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

# A free TCP port on 127.0.0.1 for a service to listen on later.  It is drawn below the
# kernel's ephemeral range (net.ipv4.ip_local_port_range), so that no outgoing connection and
# no bind to port 0 by another process can take it before our service binds it; and, with
# PH_STATE set, never one handed out before for that state (kept in PH_STATE/.ports).
ph_free_port() {
    "$PH_PYTHON" - "${PH_STATE:-}" <<'PY'
import os, random, socket, sys
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
state = sys.argv[1] if len(sys.argv) > 1 and os.path.isdir(sys.argv[1]) else ""
path = os.path.join(state, ".ports") if state else ""
taken = set(open(path).read().split()) if path and os.path.exists(path) else set()
port = 0
for _ in range(500 if low > 11024 else 0):
    p = random.randint(10000, low - 1)
    if str(p) in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        port = p
        break
    except OSError:
        continue
    finally:
        s.close()
if not port:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
if path:
    with open(path, "a") as f:
        f.write("%d\n" % port)
print(port)
PY
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
