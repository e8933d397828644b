#!/bin/sh
# The container test (not part of `npm test`: it needs root, dockerd and a few minutes). From a
# clean machine: builds the base, node and Prometheus images (build-image.sh), checks the image
# size, runs a 4-node `metronome devnet --runtime docker` with Prometheus on free loopback ports,
# and passes only if finality advanced, finalized roots agree, Prometheus has every node up and no
# container is left. Stops dockerd afterwards if it started it.
#
#   sh deploy/docker/test-image.sh          (as root; DURATION=60 NODES=4 by default)
set -eu

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NODES="${NODES:-4}"
DURATION="${DURATION:-60}"
MAX_IMAGE_BYTES=300000000
OUT="$(mktemp -d /tmp/metronome-docker-devnet.XXXXXX)"
cd "$ROOT"

[ "$(id -u)" = 0 ] || { echo "test-image.sh: needs root" >&2; exit 1; }
STARTED_DOCKERD=0
if ! docker info >/dev/null 2>&1; then STARTED_DOCKERD=1; fi
stop_dockerd() {
  if [ "$STARTED_DOCKERD" = 1 ] && [ -f /var/run/docker.pid ]; then
    echo "test-image.sh: stopping the dockerd this test started"
    kill "$(cat /var/run/docker.pid)" 2>/dev/null || true
  fi
}
trap stop_dockerd EXIT

sh deploy/docker/build-image.sh

SIZE="$(docker image inspect --format '{{.Size}}' metronome:local)"
echo "test-image.sh: metronome:local is $SIZE bytes (limit $MAX_IMAGE_BYTES)"
docker image ls metronome:local
[ "$SIZE" -lt "$MAX_IMAGE_BYTES" ] || { echo "test-image.sh: FAIL image too large" >&2; exit 1; }

NODE="$ROOT/node_modules/.bin/node"
# Four free loopback port blocks (p2p, http, metrics: NODES consecutive ports each; Prometheus one).
PORTS="$("$NODE" -e '
const net = require("node:net");
const n = Number(process.argv[1]);
const free = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(false)); s.listen(p, "127.0.0.1", () => s.close(() => ok(true))); });
(async () => {
  const picked = [];
  for (let base = 20000 + Math.floor(Math.random() * 400) * 20; picked.length < 4; base += 20) {
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await free(base + i);
    if (ok) picked.push(base);
  }
  console.log(picked.join(" "));
})();' "$NODES")"
# shellcheck disable=SC2086
set -- $PORTS
echo "test-image.sh: ports p2p $1 http $2 metrics $3 prometheus $4; out $OUT; uptime: $(uptime)"

RC=0
"$NODE" packages/node/src/bin/metronome.ts devnet --runtime docker --nodes "$NODES" --validators 32 \
  --slot-seconds 1 --genesis-delay 20 --duration "$DURATION" --quiet \
  --base-port "$1" --base-http-port "$2" --base-metrics-port "$3" --prometheus-port "$4" --out "$OUT" || RC=$?
"$NODE" -e '
const s = require(process.argv[1]);
for (const n of s.nodes) console.log(`node ${n.node_id}: head ${n.head_slot} justified ${n.justified_slot} finalized ${n.finalized_slot} peers ${n.peers}`);
console.log(`finality_advanced ${s.finality_advanced} finalized_agree ${s.finalized_agree} prometheus_targets ${JSON.stringify(s.prometheus_targets)} docker_health ${s.docker_health.join(",")} containers_left ${s.containers_left.length}`);
' "$OUT/summary.json"
LEFT="$(docker ps -a --filter name=metronome-devnet- --format '{{.Names}}')"
[ -z "$LEFT" ] || { echo "test-image.sh: FAIL containers left: $LEFT" >&2; exit 1; }
echo "test-image.sh: Grafana is not run: no Debian package and no reachable image registry (docs/operations.md)"
if [ "$RC" = 0 ]; then echo "test-image.sh: PASS"; rm -rf "$OUT"; else echo "test-image.sh: FAIL (logs in $OUT)"; fi
exit "$RC"
