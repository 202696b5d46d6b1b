# LaunchGate: one image for the API (`serve`) and the workers (`worker`) of the scaled-out
# mode. It installs from this repository exactly as the README does, plus the postgres
# extra: the distribution launchgate-eval, whose command and import name are `launchgate`
# (never `pip install launchgate`: that name on PyPI is an unrelated project).
# Build: docker build -t launchgate .   Compose: see docker-compose.yml and docs/scale-out.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[server,postgres]" \
 && useradd --system --uid 10001 --home-dir /data --create-home launchgate

# Production: secrets must come from the environment (never generated into the image).
ENV LAUNCHGATE_ENV=production \
    LAUNCHGATE_DATA_DIR=/data
USER launchgate
WORKDIR /data
EXPOSE 4001

ENTRYPOINT ["launchgate"]
CMD ["serve", "--host", "0.0.0.0", "--port", "4001"]
