# Depot's image: the server (uvicorn), and with another command the task worker or a one-off
# manage.py job (docker-compose.yml runs migrate once, then the server, the worker and the
# scheduled clean-ups from this one image).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEPOT_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY sessions_app sessions_app
COPY attachments attachments
COPY artifacts artifacts
COPY web web
COPY agents_mcp agents_mcp
COPY depot_cli depot_cli
COPY ops ops
COPY templates templates
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin depot \
    && mkdir -p /data && chown depot /data
ENV DEPOT_STATIC_USE_FINDERS=0 DEPOT_BIND_HOST=0.0.0.0
# Not root: the server, the worker and the jobs run as `depot` (uid 10001), writing only /data.
USER 10001
EXPOSE 8000
# Migrations are a job of their own (compose's `migrate`), not a step of every start. Depot's
# structured access log is on (DEPOT_ACCESS_LOG); uvicorn's plain one stays off.
CMD ["uvicorn", "config.asgi:application", "--http", "config.http_protocol:BoundedHttpToolsProtocol", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--no-access-log"]
