# shellcheck shell=bash
# Shared helpers for scripts/setup, scripts/dev and scripts/test. Source it; do not run it.
#
#   phase "name" cmd args...   runs a phase, prints "==> name" / "<== name (N.Ns)", records its time
#   start_stack [VAR=value...] starts node dev/stack.mjs (IdP :9000, API :9001, echo :9002) and waits for it
#   stop_stack                 stops it
#   start_bg name cmd...       starts any background process, logged to $LOG_DIR/name.log; stop_bg name
#   wait_for_url URL [secs] [pid]  waits until URL answers HTTP (any status); returns 1 on timeout or if pid died
# A trap stops everything started here on exit, failure or Ctrl-C, and prints the phase summary.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO
# Our own tool builds first (trunk, wasm-bindgen, wasm-pack), then binaryen's wasm-opt from npm;
# Debian's /usr/bin/wasm-opt (binaryen 108) silently breaks the app and must never win.
export PATH="$HOME/.cargo/bin:$REPO/node_modules/.bin:$PATH"
# Logs live outside the folders trunk watches (src, crates, public, style).
LOG_DIR="${LOG_DIR:-$REPO/artifacts/logs}"
export LOG_DIR

declare -a _PHASE_NAMES=() _PHASE_TIMES=() _PHASE_STATUS=()
declare -A _BG_PIDS=()
_CURRENT_PHASE=""
_CURRENT_START=""

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

_elapsed() { # start → seconds with one decimal
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

phase() {
  local name="$1"; shift
  _CURRENT_PHASE="$name"
  _CURRENT_START="$EPOCHREALTIME"
  log "==> $name"
  "$@"
  local took; took="$(_elapsed "$_CURRENT_START")"
  _PHASE_NAMES+=("$name"); _PHASE_TIMES+=("$took"); _PHASE_STATUS+=("ok")
  _CURRENT_PHASE=""
  log "<== $name (${took}s)"
}

print_summary() {
  ((${#_PHASE_NAMES[@]})) || return 0
  log ""
  log "Phase summary:"
  local i
  for i in "${!_PHASE_NAMES[@]}"; do
    printf '  %-8s %7ss  %s\n' "${_PHASE_STATUS[$i]}" "${_PHASE_TIMES[$i]}" "${_PHASE_NAMES[$i]}"
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_url() {
  local url="$1" timeout="${2:-30}" pid="${3:-}"
  local deadline=$((SECONDS + timeout))
  until curl -s -o /dev/null --max-time 2 "$url"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      printf 'error: process %s exited before %s answered\n' "$pid" "$url" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      printf 'error: %s did not answer within %ss\n' "$url" "$timeout" >&2
      return 1
    fi
    sleep 0.2
  done
}

# start_bg NAME CMD...: runs CMD in the background with output to $LOG_DIR/NAME.log.
start_bg() {
  local name="$1"; shift
  mkdir -p "$LOG_DIR"
  "$@" >"$LOG_DIR/$name.log" 2>&1 &
  _BG_PIDS[$name]=$!
  log "    started $name (pid $!), log: $LOG_DIR/$name.log"
}

# stop_bg NAME: SIGTERM, then SIGKILL after 5 s; only the pid we started.
stop_bg() {
  local name="$1" pid="${_BG_PIDS[$1]:-}"
  [[ -n "$pid" ]] || return 0
  unset "_BG_PIDS[$name]"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  log "    stopped $name"
}

bg_pid() { printf '%s' "${_BG_PIDS[$1]:-}"; }

# start_stack [VAR=value...]: ACCESS_TOKEN_TTL, AUTO_LOGIN, TEST_ROUTES, APP_ORIGINS pass through from
# the environment; arguments override them for this start only.
start_stack() {
  local port
  for port in 9000 9001 9002; do
    if port_open "$port"; then die "port $port is already in use (is another dev stack running?)"; fi
  done
  start_bg stack env "$@" node "$REPO/dev/stack.mjs"
  local pid; pid="$(bg_pid stack)"
  local url
  for url in http://127.0.0.1:9000/.well-known/openid-configuration http://127.0.0.1:9001/api/stats \
    http://127.0.0.1:9002/echo; do
    wait_for_url "$url" 30 "$pid" || { tail -n 30 "$LOG_DIR/stack.log" >&2; die "the dev stack did not start"; }
  done
  log "    stack up: IdP http://127.0.0.1:9000, API http://127.0.0.1:9001, echo http://127.0.0.1:9002"
}

stop_stack() { stop_bg stack; }

# pg_bin NAME: the path of a PostgreSQL server program (Debian keeps them out of PATH), or status 1.
pg_bin() {
  local found
  found="$(ls -1 /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$found" ]] || found="$(command -v "$1" 2>/dev/null)" || return 1
  printf '%s\n' "$found"
}

# start_postgres [PORT]: a throwaway PostgreSQL cluster in a temporary folder, on 127.0.0.1:PORT (default 5439)
# with its own socket folder; exports OTEN_TEST_POSTGRES_URL. initdb refuses root: as root it runs as `postgres`.
PG_DIR=""
start_postgres() {
  local port="${1:-5439}" as=()
  if port_open "$port"; then die "port $port is already in use (another PostgreSQL?)"; fi
  PG_DIR="$(mktemp -d /tmp/oten-pg.XXXXXX)"
  if ((EUID == 0)); then
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$(pg_bin initdb)" -D "$PG_DIR/data" -U postgres -A trust --no-sync >"$LOG_DIR/postgres-init.log" 2>&1 \
    || { cat "$LOG_DIR/postgres-init.log" >&2; die "initdb failed"; }
  "${as[@]}" "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 30 start \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null \
    || { cat "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  "${as[@]}" "$(pg_bin createdb)" -h 127.0.0.1 -p "$port" -U postgres oten_test
  export OTEN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/oten_test"
  log "    PostgreSQL up: $OTEN_TEST_POSTGRES_URL (cluster in $PG_DIR)"
}

stop_postgres() {
  [[ -n "$PG_DIR" ]] || return 0
  local as=()
  ((EUID == 0)) && as=(runuser -u postgres --)
  "${as[@]}" "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
  log "    stopped PostgreSQL"
}

_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$_CURRENT_PHASE" ]]; then
    local took; took="$(_elapsed "$_CURRENT_START")"
    _PHASE_NAMES+=("$_CURRENT_PHASE"); _PHASE_TIMES+=("$took"); _PHASE_STATUS+=("FAILED")
    log "<== $_CURRENT_PHASE FAILED (${took}s)"
    ((rc != 0)) || rc=1
  fi
  local name
  for name in "${!_BG_PIDS[@]}"; do stop_bg "$name"; done
  stop_postgres
  print_summary
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
