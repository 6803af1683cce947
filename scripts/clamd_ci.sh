#!/usr/bin/env bash
# A private clamd for the tests and CI (ADR 0013): its own configuration and its own signature
# database, because CI has no network for freshclam. The one signature detects the EICAR test
# string anywhere in a file (ClamAV's built-in EICAR detection lives in the official daily.cvd,
# which we do not have). Listens on TCP 127.0.0.1:$ZAIRYU_CLAMD_PORT (3310) and on a unix socket.
#
#   scripts/clamd_ci.sh start    # idempotent: starts clamd unless it already answers PING
#   scripts/clamd_ci.sh stop
#   scripts/clamd_ci.sh status   # PING → PONG
#
# Then: export ZAIRYU_TEST_CLAMD=tcp://127.0.0.1:3310  (or unix://$ZAIRYU_CLAMD_DIR/clamd.sock)
set -euo pipefail

dir="${ZAIRYU_CLAMD_DIR:-${TMPDIR:-/tmp}/zairyu-clamd}"
port="${ZAIRYU_CLAMD_PORT:-3310}"
conf="$dir/clamd.conf"
# The EICAR test string, in two halves so that this script is no "virus" to a scanner itself.
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$'"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!\$H+H*"

ping_clamd() {
  python3 - "$port" <<'EOF'
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
        s.sendall(b"zPING\0")
        sys.exit(0 if s.recv(16).rstrip(b"\0") == b"PONG" else 1)
except OSError:
    sys.exit(1)
EOF
}

start() {
  if ping_clamd; then
    echo "clamd already answers on tcp://127.0.0.1:$port"
    return 0
  fi
  command -v clamd >/dev/null 2>&1 || { echo "clamd is not installed (apt-get install clamav-daemon)" >&2; exit 1; }
  mkdir -p "$dir/db" "$dir/tmp"
  # Body signature, target 0 (any file), offset * (anywhere): name:target:offset:hex.
  printf 'Zairyu.Test.EICAR:0:*:%s\n' "$(printf '%s' "$eicar" | od -An -tx1 -v | tr -d ' \n')" >"$dir/db/zairyu-test.ndb"
  cat >"$conf" <<EOF
# Written by scripts/clamd_ci.sh: a test clamd with its own signatures; not for production.
LocalSocket $dir/clamd.sock
LocalSocketMode 660
FixStaleSocket yes
TCPSocket $port
TCPAddr 127.0.0.1
DatabaseDirectory $dir/db
TemporaryDirectory $dir/tmp
PidFile $dir/clamd.pid
LogFile $dir/clamd.log
LogTime yes
Foreground no
SelfCheck 0
# The application streams at most ZAIRYU_CLAMD_STREAM_MAX_BYTES (25 MB by default) per file.
StreamMaxLength 25M
MaxFileSize 25M
MaxScanSize 100M
ReadTimeout 30
CommandReadTimeout 10
EOF
  if [ "$(id -u)" = 0 ]; then
    echo "User root" >>"$conf"  # CI runs as root; clamd would otherwise try to switch users
  fi
  rm -f "$dir/clamd.sock"
  clamd --config-file="$conf"
  for _ in $(seq 1 60); do
    ping_clamd && break
    sleep 1
  done
  if ! ping_clamd; then
    echo "clamd did not start; its log:" >&2
    tail -n 30 "$dir/clamd.log" >&2 || true
    exit 1
  fi
  # The signature must really detect EICAR, or the tests that rely on it prove nothing.
  printf '%s' "$eicar" >"$dir/eicar.txt"
  # (clamdscan exits 1 when it finds something: its status is not the test.)
  found="$(clamdscan --config-file="$conf" --no-summary --stream "$dir/eicar.txt" 2>&1 || true)"
  if [[ "$found" == *"Zairyu.Test.EICAR"*FOUND* ]]; then
    echo "clamd answers on tcp://127.0.0.1:$port and unix://$dir/clamd.sock (EICAR detected)"
  else
    echo "clamd started but does not detect EICAR" >&2
    exit 1
  fi
}

stop() {
  if [ -f "$dir/clamd.pid" ]; then
    kill "$(cat "$dir/clamd.pid")" 2>/dev/null || true
    rm -f "$dir/clamd.pid"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if ping_clamd; then echo PONG; else echo "clamd does not answer on 127.0.0.1:$port"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
