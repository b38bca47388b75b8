# Shared helpers for scripts/run, scripts/test and the benchmark scripts. Source it; do not run it.

# Installs the Debian packages given as arguments that are not installed yet (and only those).
ensure_packages() {
    local missing=()
    local package
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    echo "==> installing ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The Debian packages the build itself needs (system-library shims and pkg-config to find them).
BUILD_PACKAGES=(libsecp256k1-dev libhiredis-dev zlib1g-dev libisal-dev pkg-config)

# Prints a TCP port that is free on loopback right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until host:port accepts connections, at most $3 seconds (default 30).
wait_for_port() {
    local host=$1 port=$2 timeout=${3:-30}
    local deadline=$((SECONDS + timeout))
    while ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            echo "timed out waiting for $host:$port" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Starts a throwaway PostgreSQL cluster in directory $1 (created; owned by the postgres user when run as root,
# since initdb refuses root) on a free loopback port, with an empty database $2. Sets PG_BIN, PG_PORT and PG_DSN.
# Stop it with stop_postgres "$1".
start_postgres() {
    local dir=$1 database=$2
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$PG_BIN" ]; then echo "no PostgreSQL server installed (apt-get install postgresql)" >&2; return 1; fi
    PG_PORT=$(free_port)
    local as_pg=()
    mkdir -p "$dir/data"
    if [ "$(id -u)" -eq 0 ]; then
        as_pg=(runuser -u postgres --)
        chown -R postgres "$dir"
        chmod a+x "$(dirname "$dir")" # the postgres user must reach it (mktemp makes 0700 directories)
    fi
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$dir/data" -U arena --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    "${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U arena "$database"
    PG_DSN="postgres://arena@127.0.0.1:$PG_PORT/$database?sslmode=disable"
}

# Stops the cluster start_postgres started in $1 at once (no checkpoint), if it runs.
stop_postgres() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    else
        "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
}
