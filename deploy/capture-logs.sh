#!/bin/sh
# Save a stopped or stalled node's recent logs before anything restarts it.
#
#   capture-logs.sh [unit]             systemd ExecStopPost hook (SERVICE_RESULT is set by systemd);
#                                      does nothing after a clean stop
#   capture-logs.sh --now [unit]       by hand or from an alert, while the node still runs: also
#                                      saves /lean/v0/health and /metrics; restart only afterwards
#
# Always exits 0 so it can never block a restart. Keeps the newest $METRONOME_CAPTURE_KEEP files.
set -u

MANUAL=0
if [ "${1:-}" = "--now" ]; then
  MANUAL=1
  shift
fi
UNIT="${1:-metronome-node.service}"
DIR="${METRONOME_CAPTURE_DIR:-/var/log/metronome}"
KEEP="${METRONOME_CAPTURE_KEEP:-20}"
SINCE="${METRONOME_CAPTURE_SINCE:-10 min ago}"
API="http://${METRONOME_HTTP_HOST:-127.0.0.1}:${METRONOME_HTTP_PORT:-5052}"
METRICS="http://${METRONOME_HTTP_HOST:-127.0.0.1}:${METRONOME_METRICS_PORT:-8008}/metrics"

if [ "$MANUAL" = 0 ] && [ "${SERVICE_RESULT:-}" = "success" ]; then
  exit 0
fi

mkdir -p "$DIR" || exit 0
RESULT="${SERVICE_RESULT:-manual}"
FILE="$DIR/metronome-$(date -u +%Y%m%dT%H%M%SZ)-$$-$RESULT.log"
{
  echo "# unit=$UNIT result=$RESULT exit_code=${EXIT_CODE:-} exit_status=${EXIT_STATUS:-} host=$(hostname)"
  if [ "$MANUAL" = 1 ] && command -v curl >/dev/null 2>&1; then
    echo "# GET $API/lean/v0/health"
    curl -sS --max-time 5 "$API/lean/v0/health"
    echo
    echo "# GET $METRICS"
    curl -sS --max-time 5 "$METRICS"
  fi
  echo "# journalctl -u $UNIT --since \"$SINCE\""
  journalctl -u "$UNIT" --since "$SINCE" --no-pager -o short-iso-precise
} >"$FILE" 2>&1

# Bounded: the oldest captures beyond KEEP go.
ls -1t "$DIR"/metronome-*.log 2>/dev/null | tail -n +"$((KEEP + 1))" | while IFS= read -r old; do
  rm -f -- "$old"
done
echo "$FILE"
exit 0
