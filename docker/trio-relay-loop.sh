#!/bin/sh
# Run trio-relay for one camera in periods: `timeout` sends SIGTERM at the end of each period
# (the relay drains and exits 0), SIGKILL <grace> seconds later if it is still running, and the
# loop starts the next run, which recovers whatever the last one left in the spool.
#
#   TRIO_CAMERA_ID=front-door TRIO_ENV_FILE=/etc/trio-relay/front-door.env \
#     docker/trio-relay-loop.sh --token-file /etc/trio-relay/token --spool-dir /var/lib/trio-relay
#
# Arguments are the relay's flags. Settings (see README "Deploy"):
#   TRIO_CAMERA_ID      required (or --camera-id / --config): the derived id would follow the MAC
#   TRIO_ENV_FILE       a root-only (0600) file of TRIO_*='…' lines, read here, e.g. TRIO_SOURCE
#                       with the camera password, so the password is in no argv
#   TRIO_LOOP_PERIOD    seconds per run (default 3600)
#   TRIO_LOOP_GRACE     seconds from SIGTERM to SIGKILL (default 10: the relay needs
#                       --drain-timeout + 1 s, 7 s with the default 6 s)
#   TRIO_LOOP_RUNS      stop after this many runs (default: never)
#   TRIO_RELAY          the relay's executable (default: trio-relay on PATH)
# SIGTERM or SIGINT to this script stops the current run the same way and ends the loop.
# Exit codes 2 (bad input), 3 (API key refused) and 5 (TLS not trusted) end the loop too:
# restarting cannot fix those.
set -u

log() { printf 'trio-relay-loop: %s\n' "$*" >&2; }

if [ -n "${TRIO_ENV_FILE:-}" ]; then
  # shellcheck disable=SC1090 # an operator's file, like systemd's EnvironmentFile
  set -a && . "$TRIO_ENV_FILE" && set +a || { log "cannot read TRIO_ENV_FILE $TRIO_ENV_FILE"; exit 2; }
fi

pinned=${TRIO_CAMERA_ID:+yes}${TRIO_CONFIG:+yes}
for arg in "$@"; do
  case $arg in --camera-id | --camera-id=* | --config | --config=*) pinned=yes ;; esac
done
if [ -z "$pinned" ]; then
  log "set TRIO_CAMERA_ID (or pass --camera-id): the derived id follows this box's MAC"
  exit 2
fi

period=${TRIO_LOOP_PERIOD:-3600}
grace=${TRIO_LOOP_GRACE:-10}
runs=${TRIO_LOOP_RUNS:-0}
relay=${TRIO_RELAY:-trio-relay}

child=
stopping=
stop() {
  stopping=yes
  # timeout passes the signal on to the relay and starts its -k timer.
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap stop TERM INT

run=0
while [ -z "$stopping" ]; do
  run=$((run + 1))
  log "run $run: starting (SIGTERM after ${period}s, SIGKILL ${grace}s later)"
  # In the background so this shell's trap runs at once on a stop signal. --preserve-status:
  # the relay's own exit code (0 after a clean drain), 137 when -k had to kill it.
  timeout --preserve-status --signal=TERM -k "$grace" "$period" "$relay" "$@" &
  child=$!
  # A stop signal that came just before $child was known.
  [ -n "$stopping" ] && kill -TERM "$child" 2>/dev/null
  # A trapped signal interrupts wait (status 128 + signal): wait again for the relay's own exit.
  while :; do
    wait "$child"
    status=$?
    case $status in 130 | 143) kill -0 "$child" 2>/dev/null && continue ;; esac
    break
  done
  child=
  log "run $run: exited $status"
  case $status in
    0 | 143) ;;
    137) log "run $run: the relay did not stop within ${grace}s and was killed (raise TRIO_LOOP_GRACE above --drain-timeout + 1 s)" ;;
    2 | 3 | 5) exit "$status" ;;
    *) [ -z "$stopping" ] && sleep 2 ;; # like systemd's RestartSec: no tight loop on a crash
  esac
  if [ "$runs" -gt 0 ] && [ "$run" -ge "$runs" ]; then break; fi
done
exit 0
