# One image for web, CPU workers and beat; GPU workers build with --build-arg EXTRA=gpu.
FROM python:3.11-slim
ARG EXTRA=""
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY leaderboard leaderboard
COPY evaluations evaluations
COPY workers workers
# the smoke suite's task data (WORKER_LOCAL_TASKS) lives with the local tooling
COPY localdev localdev
COPY templates templates
COPY static static
COPY manage.py ./
# torch first and pinned: the CPU build for CPU images. GPU images install the project with
# vLLM's CUDA wheel (the gpu extra, which pins vLLM) in one resolve, so vLLM's torch and
# transformers stay within the ranges vLLM declares. vLLM's ninja build tool ships a Python
# package `ninja` that overwrites django-ninja's ninja/__init__.py: reinstall django-ninja.
RUN if [ "$EXTRA" = "gpu" ]; then pip install ".[gpu]" && pip install --no-deps \
      --force-reinstall "$(pip freeze | grep -i '^django-ninja==')"; \
    else pip install torch==2.13.0 && pip install .; fi
# Hashed, compressed static files, kept out of the var/ volume so each image serves its own.
# A throwaway key and var/ folder: nothing of the build's settings stays in the image.
ENV STATIC_ROOT=/app/staticfiles
RUN LEADERBOARD_VAR_DIR=/tmp/build-var SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --noinput --verbosity 0 && rm -rf /tmp/build-var
RUN useradd --create-home app && mkdir -p /app/var && chown app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "leaderboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
