# Mirrors the README: scripts/setup installs the pinned packages (and the serve extra) into
# .venv and Debian's Chromium and redis-server; the container runs the multi-user stack of
# scripts/serve (Redis, Celery workers, gunicorn), not the single-process app.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY . .
RUN PYTHON=python3 scripts/setup serve
ENV DECENTRA_CACHE_DIR=/var/cache/decentra DECENTRA_STORE=/data/scenarios.sqlite
VOLUME ["/data"]
EXPOSE 8050
CMD [".venv/bin/python", "-m", "dashboard.serve", "--host", "0.0.0.0", "--port", "8050"]
