#!/bin/sh
# Builds metronome:local (and metronome/prometheus:local for the compose devnet) from a clean
# machine: installs docker.io/debootstrap/docker-compose from Debian if missing, starts dockerd if
# it is not running, builds the local Debian base if absent, stages Node 24 + pnpm, builds.
# Needs root. Registries reached: Debian packages and npm only (no image registry).
#
#   sh deploy/docker/build-image.sh            # both images
#   IMAGES=node sh deploy/docker/build-image.sh
set -eu

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TAG="${METRONOME_IMAGE:-metronome:local}"
PROM_TAG="${METRONOME_PROMETHEUS_IMAGE:-metronome/prometheus:local}"
IMAGES="${IMAGES:-node prometheus}"
PNPM_VERSION=10.34.8

[ "$(id -u)" = 0 ] || { echo "build-image.sh: needs root (dockerd, debootstrap)" >&2; exit 1; }

need=""
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
command -v docker-compose >/dev/null 2>&1 || need="$need docker-compose"
if [ -n "$need" ]; then
  echo "build-image.sh: apt-get install$need"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "build-image.sh: starting dockerd (log: /tmp/dockerd.log)"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  i=0
  until docker info >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 60 ] || { echo "build-image.sh: dockerd did not come up, see /tmp/dockerd.log" >&2; exit 1; }
    sleep 1
  done
fi
sh "$ROOT/deploy/docker/build-base.sh"

for image in $IMAGES; do
  case "$image" in
    node)
      cd "$ROOT"
      [ -x node_modules/.bin/node ] || npx --yes "pnpm@$PNPM_VERSION" install --frozen-lockfile
      STAGE="$ROOT/deploy/docker/.stage"
      mkdir -p "$STAGE"
      # node_modules/.bin/node is a shell shim; the binary is what it execs.
      NODE_BIN="$(readlink -f node_modules/node/bin/node)"
      "$NODE_BIN" -e 'if (!process.version.startsWith("v24.")) { console.error(`Node ${process.version} is not 24`); process.exit(1) }'
      cp "$NODE_BIN" "$STAGE/node"
      [ -f "$STAGE/pnpm.tgz" ] || (cd "$STAGE" && npm pack --silent "pnpm@$PNPM_VERSION" >/dev/null && mv "pnpm-$PNPM_VERSION.tgz" pnpm.tgz)
      CA="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
      if [ -f "$CA" ]; then cp "$CA" "$STAGE/ca.crt"; else : >"$STAGE/ca.crt"; fi
      docker build --network host -t "$TAG" -f Dockerfile .
      docker image ls "$TAG"
      ;;
    prometheus)
      docker build --network host -t "$PROM_TAG" -f "$ROOT/deploy/docker/prometheus.Dockerfile" "$ROOT/deploy/docker"
      docker image ls "$PROM_TAG"
      ;;
    *) echo "build-image.sh: unknown image $image (node | prometheus)" >&2; exit 1 ;;
  esac
done
