# tthc-bot: one small server (web chat, JSON API, Telegram and Zalo webhooks).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TTHC_HOST=0.0.0.0 \
    TTHC_PORT=8080 \
    TTHC_DB=/data/tthc-bot.db

WORKDIR /app

# DejaVu Sans: the roadmap pictures, QR captions and staff charts draw Vietnamese with it (no font
# is bundled; without it every accented letter is a box, and `tthc-bot serve` warns at start).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir bot knowledge && touch bot/__init__.py \
    && pip install . \
    && pip uninstall -y tthc-bot && rm -rf bot

COPY bot ./bot
COPY knowledge ./knowledge
RUN pip install --no-deps . && rm -rf /app/bot /app/build

RUN useradd --create-home --uid 10001 tthc && mkdir -p /data && chown tthc /data
USER tthc
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"TTHC_PORT\", \"8080\")}/healthz', timeout=4)" || exit 1

CMD ["tthc-bot", "serve"]
