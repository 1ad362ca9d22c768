# syntax=docker/dockerfile:1
# A small image whose command is `importer`:
#   docker build -t visma-ledger-importer .
#   docker run --rm visma-ledger-importer --version
#   docker run --rm -v "$PWD:/work" -w /work visma-ledger-importer run customers.csv --entity customer --sandbox

# The wheels: this package's and its dependencies'.
FROM python:3.11-slim AS wheels
WORKDIR /src
COPY pyproject.toml README.md ./
COPY importer ./importer
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Installed from those wheels only; the wheels themselves never become a layer.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels visma-ledger-importer \
    && useradd --create-home --uid 10001 importer
USER importer
WORKDIR /home/importer
ENTRYPOINT ["importer"]
CMD ["--help"]
