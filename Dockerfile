# probed container image. Build: docker build -t probed .
# Run:   docker run -d --name probed -p 9925:9925 \
#          -v "$PWD/monitors.toml:/etc/probed/monitors.toml:ro" -v probed-state:/var/lib/probed probed
# See docs/operations.md ("Running probed as a service").

# --- builder: install probed and its dependencies into a self-contained venv ----------------------
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY probed ./probed
RUN /opt/venv/bin/pip install --no-cache-dir /src

# --- runtime: the same base image, the venv, a fixed non-root user ---------------------------------
FROM python:3.11-slim

# The venv's interpreter links to /usr/local/bin/python3.11, which this identical base provides.
COPY --from=builder /opt/venv /opt/venv

RUN groupadd --system --gid 10001 probed \
    && useradd --system --uid 10001 --gid probed --no-create-home --home-dir /var/lib/probed \
        --shell /usr/sbin/nologin probed \
    && mkdir -p /etc/probed /var/lib/probed \
    && chown probed:probed /var/lib/probed \
    && chmod 0700 /var/lib/probed

# PROBED_LISTEN: inside a container the listener must bind all interfaces to be reachable
# through -p; it overrides `listen` from monitors.toml.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROBED_CONFIG=/etc/probed/monitors.toml \
    PROBED_LISTEN=0.0.0.0:9925 \
    STATE_DIRECTORY=/var/lib/probed

USER 10001:10001
WORKDIR /var/lib/probed
VOLUME ["/var/lib/probed"]
EXPOSE 9925

# No curl in the slim image: the standard library does the request; a 503 raises, so exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9925/healthz', timeout=4)"]

# probed runs as PID 1: it handles SIGTERM itself (drain, then exit), which `docker stop` sends.
CMD ["probed", "run"]
