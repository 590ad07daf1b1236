# SDM Companion: one image for the bot (`companion run`), the dispatcher
# (`companion dispatch`) and the operator commands. See docs/deploy.md.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY flows ./flows
COPY content ./content
# A wheel carries the code, the migrations and the content (share/sdm-companion/content).
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# No root at run time; the SQLite fallback and any files live in the home folder.
RUN useradd --create-home --uid 10001 companion
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER companion
WORKDIR /home/companion
ENV PYTHONUNBUFFERED=1 \
    COMPANION_LOG_FORMAT=json \
    COMPANION_HEALTH_LISTEN=0.0.0.0 \
    COMPANION_HEALTH_PORT=9090
# 8443: the webhook (behind the reverse proxy); 9090: /healthz and /metrics (keep it private).
EXPOSE 8443 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4).status != 200)"
ENTRYPOINT ["companion"]
CMD ["run"]
