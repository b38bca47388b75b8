# Shared helpers for scripts/run, scripts/test and scripts/bench-api. Source it; do not run it.

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
BUILD_PACKAGES=(libsecp256k1-dev libhiredis-dev zlib1g-dev pkg-config)

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
