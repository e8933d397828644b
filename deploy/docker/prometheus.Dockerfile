# Prometheus from Debian's archive on the local Debian base (no image registry is reachable).
# The compose devnet mounts its generated scrape config at /etc/prometheus/prometheus.yml.
ARG BASE_IMAGE=metronome/debian-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/var/lib/prometheus/metrics2", "--web.listen-address=127.0.0.1:9090"]
