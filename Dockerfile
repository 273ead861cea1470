# Production-like image: one image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/staticfiles \
    CALMA_VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
COPY crisis ./crisis
COPY monitoring ./monitoring
COPY protocols ./protocols
RUN pip install . gunicorn
COPY . .
RUN DEBUG=true python manage.py compile_translations \
    && DEBUG=true python manage.py collectstatic --noinput \
    && useradd --system --home /app calma && chown -R calma /app/var
USER calma
EXPOSE 8000
CMD ["gunicorn", "crisis.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
