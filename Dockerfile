# Collectif in a container: `docker build -t collectif .` then
# `docker run -d --name collectif --env-file .env -v collectif-data:/data collectif`
# (README: "Running in a container"). compose.yaml runs it with PostgreSQL.

# -- build: install Collectif and its pinned dependencies into a virtual environment -----------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/collectif
WORKDIR /src
COPY constraints.txt pyproject.toml README.md LICENSE ./
COPY bot bot
COPY cogs cogs
COPY storage storage
# A regular (not editable) install, every dependency at the version constraints.txt pins.
RUN /opt/collectif/bin/pip install -c constraints.txt . \
    && /opt/collectif/bin/collectif --version

# -- run: the virtual environment, a non-root user, the database in a volume ------------------------
FROM python:3.11-slim

LABEL org.opencontainers.image.title="Collectif" \
      org.opencontainers.image.description="A Discord and Slack bot for freelance collectives" \
      org.opencontainers.image.licenses="MIT"

RUN groupadd --system --gid 10001 collectif \
    && useradd --system --uid 10001 --gid collectif --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin collectif \
    && mkdir /data && chown collectif:collectif /data
COPY --from=build /opt/collectif /opt/collectif

ENV PATH="/opt/collectif/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COLLECTIF_DATABASE__URL="sqlite+aiosqlite:////data/collectif.db" \
    COLLECTIF_OPS__HTTP_HOST="0.0.0.0" \
    COLLECTIF_OPS__HTTP_PORT="8080"

# The SQLite database (and its -wal/-shm journal) lives here; mount a volume to keep it.
# A config.toml placed here is read too (or give --config / COLLECTIF_CONFIG).
VOLUME ["/data"]
WORKDIR /data
USER collectif:collectif

# Slack HTTP mode listens on slack.http_port (Socket Mode and Discord need no inbound port).
# /healthz, /livez and /metrics (Prometheus) on ops.http_port; publish it only to your monitoring.
EXPOSE 3000 8080

# `collectif health` asks the bot's /healthz on ops.http_port: database reachable, every configured
# platform connected, scheduler on time (exit 0), else exit 1 with what fails.
# Backups: `docker exec collectif collectif db backup` writes /data/backups/collectif-<time>.db.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["collectif", "health"]

# SIGTERM (docker stop) shuts Collectif down cleanly, exit code 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["collectif"]
CMD ["run"]
