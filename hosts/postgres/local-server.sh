#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests and local trials of the shared ledger.
#
#   hosts/postgres/local-server.sh start DIR   # initdb in DIR/data, start on a free port, print the port
#   hosts/postgres/local-server.sh stop DIR    # stop it (DIR can then be deleted)
#
# Trust authentication on loopback only, user `postgres`, locale C. As root the server runs as the
# `postgres` user (runuser), otherwise as the current user. Binaries: $PG_BIN, else the newest
# /usr/lib/postgresql/*/bin (Debian's `postgresql` package; ./install.sh --with-test-tools installs it).
# Exit 3 when the binaries are missing, 1 when the server does not start (DIR/server.log says why).
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,10p' "$0" | cut -c3- >&2; exit 2; }
BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    # The server outlives this script: it must not keep the caller's other descriptors (pipes a
    # test harness reads to EOF) open. 255 is bash's own handle on this script.
    for fd in /proc/$$/fd/*; do
      n="${fd##*/}"
      if [ "$n" -gt 2 ] && [ "$n" != 255 ]; then eval "exec $n>&-" 2>/dev/null || true; fi
    done
    if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ] || [ ! -x "$BIN/pg_ctl" ]; then
      echo "PostgreSQL server binaries not found (looked for /usr/lib/postgresql/*/bin/initdb); install Debian's postgresql package (./install.sh --with-test-tools)" >&2
      exit 3
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$dir"
      runuser -u postgres -- test -x "$dir" \
        || { echo "the postgres user cannot reach $dir: a parent folder is closed to other users (chmod o+x it, or choose a folder under /tmp)" >&2; exit 1; }
    fi
    chmod 700 "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --locale=C -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { echo "initdb failed:" >&2; tail -5 "$dir/initdb.log" >&2; exit 1; }
    for _ in 1 2 3; do
      port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
      if as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
           -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null 2>&1; then
        echo "$port" >"$dir/port"
        echo "$port"
        exit 0
      fi
    done
    echo "PostgreSQL did not start; its log ($dir/server.log) ends with:" >&2
    tail -5 "$dir/server.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -d "$dir/data" ] || exit 0
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "local-server.sh: unknown command '$cmd' (start or stop)" >&2; exit 2 ;;
esac
