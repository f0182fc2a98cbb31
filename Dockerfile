# Mirrors the README: scripts/setup installs the pinned packages into .venv, app.py serves.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY . .
RUN PYTHON=python3 scripts/setup
EXPOSE 8050
CMD [".venv/bin/python", "app.py", "--host", "0.0.0.0", "--port", "8050"]
