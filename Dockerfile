# syntax=docker/dockerfile:1
# viggle-watch in a container (docs/container.md). Works with Docker and Podman; under Podman
# build with `--format docker`, or its OCI format drops the HEALTHCHECK.
#
#   docker build -t viggle-watch .
#   podman build --format docker -t viggle-watch .
#
# BASE: any image with Python >= 3.11 and its venv module (the default: the official slim one).
# Behind a package mirror or a TLS-inspecting proxy, give the build a CA bundle and/or a pip
# config as secrets (never baked into a layer):
#   --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt  --secret id=pipconf,src=pip.conf
ARG BASE=python:3.12-slim-bookworm

FROM ${BASE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
RUN python3 -m venv /opt/viggle-watch
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY daemon ./daemon
# wheels first (binary ones for PyAV, Pillow and pydantic: no compiler anywhere), then the venv
# from those wheels only; dumb-init is the init (PID 1: forwards signals, reaps zombies)
RUN --mount=type=secret,id=cacert --mount=type=secret,id=pipconf \
    --mount=type=cache,target=/root/.cache/pip \
    set -eu; \
    if [ -s /run/secrets/cacert ]; then export PIP_CERT=/run/secrets/cacert; fi; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    /opt/viggle-watch/bin/pip wheel --prefer-binary --wheel-dir /wheels '.[web,notify]' dumb-init; \
    /opt/viggle-watch/bin/pip install --no-index --find-links /wheels \
        'viggle-watch[web,notify]' dumb-init; \
    /opt/viggle-watch/bin/python -c 'import av, PIL, fastapi, uvicorn, apprise, viggle_watch'

FROM ${BASE}
LABEL org.opencontainers.image.title="viggle-watch" \
      org.opencontainers.image.description="Watch folders and turn dropped images and videos into Viggle renders, safely with money." \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /opt/viggle-watch /opt/viggle-watch
# PUID, PGID (default 1000:1000), UMASK (022) and TZ are read at start: docs/container.md
# VIGGLE_WATCH_ON_ERROR=wait: a broken config waits for an edit instead of a restart loop
ENV PATH=/opt/viggle-watch/bin:$PATH \
    VIGGLE_WATCH_CONFIG=/config/config.yaml \
    VIGGLE_WATCH_ON_ERROR=wait \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
VOLUME ["/config", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "viggle_watch.container.health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["dumb-init", "--", "python", "-m", "viggle_watch.container"]
CMD ["run"]
