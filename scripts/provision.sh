#!/usr/bin/env bash
# Make this machine ready for `make test` / `make deploy-test`, so that they need no set-up step.
#
#   scripts/provision.sh [chromium] [nginx] [node]
#
# Always: PostgreSQL at DATABASE_URL and Redis at TEST_REDIS_URL, when those point at this
# machine, are started if installed but down, and installed through apt if absent. The extra
# arguments name programs the caller needs as well. Installing needs Debian/Ubuntu and root (or
# password-less sudo); anywhere else the script says in one line what to install and stops.
# A DATABASE_URL (or TEST_REDIS_URL) that points at another host is used as it is: nothing
# local is touched for it.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/focusflow}"
TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

say() { echo "provision: $*" >&2; }

# host and port of a URL, e.g. "127.0.0.1 5432" (stdlib only: this runs before the venv exists)
url_host_port() {
  python3 - "$1" "$2" <<'EOF'
import sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or int(sys.argv[2]))
EOF
}

is_local() { [[ "$1" == 127.* || "$1" == localhost || "$1" == ::1 ]]; }

# Privileges: root, or sudo that does not ask for a password (make must never wait for input).
SUDO=()
can_admin=false
if [[ $(id -u) -eq 0 ]]; then
  can_admin=true
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
  can_admin=true
fi
can_apt=false
if $can_admin && command -v apt-get >/dev/null 2>&1; then can_apt=true; fi

pg_up() { # host port
  python3 - "$1" "$2" <<'EOF'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
EOF
}

redis_up() { # host port: a Redis answers PING
  python3 - "$1" "$2" <<'EOF'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        sys.exit(0 if sock.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
EOF
}

wait_for() { # what command args...: up to 30 s
  local what=$1
  shift
  for _ in $(seq 60); do
    "$@" && return 0
    sleep 0.5
  done
  say "$what did not come up within 30 s"
  exit 1
}

systemd_running() { [[ -d /run/systemd/system ]]; }

read -r db_host db_port < <(url_host_port "$DATABASE_URL" 5432)
read -r redis_host redis_port < <(url_host_port "$TEST_REDIS_URL" 6379)

# --- What is missing ------------------------------------------------------------------------

node_ok() { # Node.js 20.19 or newer, and npm
  command -v npm >/dev/null 2>&1 && node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);' 2>/dev/null
}

packages=()
check_node=false
for program in "$@"; do
  case $program in
    chromium)
      if [[ -n "${CHROMIUM_PATH:-}" ]]; then
        [[ -x "$CHROMIUM_PATH" ]] || { say "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"; exit 1; }
      elif ! command -v chromium >/dev/null 2>&1; then
        packages+=(chromium)
      fi
      ;;
    nginx)
      command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || packages+=(nginx)
      ;;
    node)
      # The client-generator checks (package.json): Node.js 20.19+ with npm.
      check_node=true
      node_ok || packages+=(nodejs npm)
      ;;
    *)
      say "unknown program $program"
      exit 2
      ;;
  esac
done
# Debian splits venv out of Python; `make` creates .venv with it.
"${PYTHON:-python3}" -c "import ensurepip, venv" 2>/dev/null || packages+=(python3-venv)
local_pg=false
if is_local "$db_host" && ! pg_up "$db_host" "$db_port"; then
  local_pg=true
  command -v pg_ctlcluster >/dev/null 2>&1 || packages+=(postgresql)
fi
local_redis=false
if is_local "$redis_host" && ! redis_up "$redis_host" "$redis_port"; then
  local_redis=true
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
fi

# --- Install --------------------------------------------------------------------------------

installed_postgresql=false
if ((${#packages[@]})); then
  if ! $can_apt; then
    say "missing: ${packages[*]}. Install (Debian/Ubuntu: sudo apt-get install ${packages[*]}), or point DATABASE_URL / TEST_REDIS_URL / CHROMIUM_PATH at ones you have, then run this again."
    exit 1
  fi
  say "installing ${packages[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
  # Package lists may be missing or stale (a fresh image): refresh them once and retry.
  if ! "${apt[@]}" install --no-install-recommends "${packages[@]}" >/tmp/provision-apt.log 2>&1; then
    "${apt[@]}" update >>/tmp/provision-apt.log 2>&1 || true
    if ! "${apt[@]}" install --no-install-recommends "${packages[@]}" >>/tmp/provision-apt.log 2>&1; then
      tail -n 20 /tmp/provision-apt.log >&2
      say "apt-get install ${packages[*]} failed (log: /tmp/provision-apt.log)"
      exit 1
    fi
  fi
  if [[ " ${packages[*]} " == *" postgresql "* ]]; then installed_postgresql=true; fi
fi

if $check_node && ! node_ok; then
  found=$(node --version 2>/dev/null || echo "no node")
  say "Node.js 20.19+ with npm is needed for the client checks (found: $found). Install it (e.g. from nodejs.org or NodeSource), then run this again."
  exit 1
fi

# --- Start what is down ---------------------------------------------------------------------

if $local_pg; then
  # The cluster that listens on the URL's port: "15 main".
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk -v port="$db_port" '$3 == port {print $1, $2; exit}')
  if [[ -z "$cluster" ]]; then
    say "no PostgreSQL cluster is set up for port $db_port (pg_lsclusters); create one, or set DATABASE_URL"
    exit 1
  fi
  read -r pg_version pg_name <<<"$cluster"
  if $installed_postgresql; then
    # A new cluster only trusts peers on its socket; the tests connect over TCP as postgres
    # without a password, as on a developer machine. Loopback only.
    hba=/etc/postgresql/$pg_version/$pg_name/pg_hba.conf
    say "letting postgres connect over loopback without a password ($hba)"
    "${SUDO[@]}" sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  fi
  if pg_up "$db_host" "$db_port"; then
    # The package started it (on a machine with systemd): read the new pg_hba.conf.
    "${SUDO[@]}" pg_ctlcluster "$pg_version" "$pg_name" reload
  elif ! $can_admin; then
    say "PostgreSQL is not running at $db_host:$db_port: start it (pg_ctlcluster $pg_version $pg_name start) or set DATABASE_URL"
    exit 1
  else
    say "starting PostgreSQL $pg_version/$pg_name"
    if systemd_running; then
      "${SUDO[@]}" systemctl start "postgresql@$pg_version-$pg_name"
    else
      "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" start
    fi
    wait_for PostgreSQL pg_up "$db_host" "$db_port"
  fi
fi

if $local_redis; then
  say "starting Redis on port $redis_port"
  if systemd_running && [[ $redis_port == 6379 ]] && $can_admin; then
    "${SUDO[@]}" systemctl start redis-server
  else
    # No root needed: a throwaway cache that keeps nothing on disk.
    dir=/var/lib/redis
    [[ -w $dir ]] || dir=$(mktemp -d)
    log=/var/log/redis/redis-$redis_port.log
    [[ -w $(dirname "$log") ]] || log=$dir/redis.log
    bind=127.0.0.1
    if [[ $redis_host == ::1 ]]; then bind=::1; fi
    redis-server --daemonize yes --bind "$bind" --port "$redis_port" --save "" --appendonly no \
      --dir "$dir" --logfile "$log"
  fi
  wait_for Redis redis_up "$redis_host" "$redis_port"
fi
exit 0
