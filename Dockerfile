FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEPOT_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY sessions_app sessions_app
COPY attachments attachments
COPY artifacts artifacts
COPY templates templates
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
ENV DEPOT_STATIC_USE_FINDERS=0
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn config.asgi:application --http config.http_protocol:BoundedHttpToolsProtocol --host 0.0.0.0 --port 8000 --proxy-headers --no-access-log"]
