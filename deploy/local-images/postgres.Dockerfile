# A stand-in for postgres:16-alpine where no registry is reachable (deploy/image-check.sh --compose):
# Debian bookworm's PostgreSQL 15 with the three variables of the official image that docker-compose.yml
# uses (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB). Never for production: use the official image.
ARG BASE_IMAGE=bildungslotse-base:bookworm-local
FROM ${BASE_IMAGE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql-15 >/dev/null && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
    && install -d -o postgres -g postgres /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["sh", "/usr/local/bin/postgres-entrypoint.sh"]
