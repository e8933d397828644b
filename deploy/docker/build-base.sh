#!/bin/sh
# Builds the Debian bookworm base image locally (no image registry is needed): debootstrap a
# minbase root from Debian packages, trim caches and docs, import it as metronome/debian-base:bookworm.
# Idempotent: does nothing when the tag already exists (FORCE=1 rebuilds). Needs root and dockerd.
#
#   sh deploy/docker/build-base.sh
set -eu

TAG="${METRONOME_BASE_TAG:-metronome/debian-base:bookworm}"
SUITE="${METRONOME_BASE_SUITE:-bookworm}"
MIRROR="${METRONOME_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "$(id -u)" != 0 ]; then
  echo "build-base.sh: needs root (debootstrap and docker import)" >&2
  exit 1
fi
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "build-base.sh: $TAG already exists (FORCE=1 to rebuild)"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

ROOT="$(mktemp -d /tmp/metronome-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT INT TERM
echo "build-base.sh: debootstrap --variant=minbase $SUITE into $ROOT"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || {
  tail -20 "$ROOT.log" >&2
  exit 1
}
rm -f "$ROOT.log"

# Slim it the way debian:*-slim is slimmed: no apt lists, caches, docs, man pages or locales.
# apt stays usable (`apt-get update` brings the lists back) so later stages can install packages.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/* \
  "$ROOT"/var/log/* "$ROOT"/tmp/*
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/01-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOT/etc/apt/apt.conf.d/01-norecommends"

tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
docker image ls "$TAG"
