# Production-like image: one image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/staticfiles \
    CALMA_VAR_DIR=/app/var

# Pango: WeasyPrint's text layout, for the post-mortem PDF.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

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
