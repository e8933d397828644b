# Metronome node image. Build with deploy/docker/build-image.sh (it stages the two inputs below and
# builds the local Debian base: no image registry is needed):
#   deploy/docker/.stage/node      the project's Node 24 binary (the `node` devDependency)
#   deploy/docker/.stage/pnpm.tgz  the pinned pnpm (npm pack pnpm@10.34.8)
#   deploy/docker/.stage/ca.crt    the build host's CA bundle, for the build stage's npm fetches
#                                  behind a TLS-intercepting proxy; it never reaches the final image
# The build stage reaches the npm registry for production dependencies (build with --network host
# where the bridge has no route out).
#
#   docker run --network host -v /path/to/genesis:/genesis:ro -v data0:/data metronome:local \
#     node --genesis /genesis --node-id 0 --data-dir /data
ARG BASE_IMAGE=metronome/debian-base:bookworm

FROM ${BASE_IMAGE} AS build
COPY deploy/docker/.stage/node /usr/local/bin/node
COPY deploy/docker/.stage/pnpm.tgz /tmp/pnpm.tgz
COPY deploy/docker/.stage/ca.crt /tmp/ca.crt
ENV NODE_EXTRA_CA_CERTS=/tmp/ca.crt
RUN mkdir -p /opt/pnpm && tar -xzf /tmp/pnpm.tgz -C /opt/pnpm --strip-components=1 && rm /tmp/pnpm.tgz
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages ./packages
# Production dependencies of the node package and its workspace packages only; the workspace
# packages stay symlinks to /app/packages so Node strips their types (it refuses inside node_modules).
RUN node /opt/pnpm/bin/pnpm.cjs install --prod --frozen-lockfile --filter "@metronome/node..." \
      --config.confirmModulesPurge=false \
  && rm -rf packages/*/test /root/.local/share/pnpm /root/.cache \
  # Native prebuilds for other platforms: only linux-x64 (glibc) runs here.
  && find node_modules/.pnpm -type d -path '*/prebuilds/*' \
       ! -name 'linux-x64*' ! -name prebuilds -prune -exec rm -rf {} + \
  && find node_modules/.pnpm -name '*.musl.node' -delete

FROM ${BASE_IMAGE}
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /app /app
# The wrapper starts node with NODE_RUNTIME_FLAGS and, before any GLIBC_TUNABLES of the operator's,
# MALLOC_TUNABLE (packages/common/src/runtimeFlags.ts).
RUN printf '#!/bin/sh\nexport GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}\nexec /usr/local/bin/node --max-semi-space-size=32 --max-old-space-size=1024 --expose-gc --no-memory-reducer-favors-memory /app/packages/node/src/bin/metronome.ts "$@"\n' \
      > /usr/local/bin/metronome \
  && chmod 0755 /usr/local/bin/metronome \
  && groupadd --system --gid 10001 metronome \
  && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin metronome \
  && mkdir -p /data && chown metronome:metronome /data
ENV NODE_ENV=production \
    NODE_OPTIONS=--disable-warning=ExperimentalWarning \
    METRONOME_HTTP_HOST=127.0.0.1 \
    METRONOME_HTTP_PORT=5052
USER metronome
WORKDIR /data
VOLUME ["/data"]
# 200 healthy, 503 unhealthy (docs/operations.md "Health rules"). Set METRONOME_HTTP_PORT (and
# METRONOME_HTTP_HOST) to what --http-port/--http-host give the node.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://${process.env.METRONOME_HTTP_HOST}:${process.env.METRONOME_HTTP_PORT}/lean/v0/health`,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/metronome"]
CMD ["--help"]
