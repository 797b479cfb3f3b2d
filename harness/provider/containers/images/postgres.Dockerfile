# Postgres 15 from Debian on the debootstrap base, with an entrypoint that
# honours the official image's contract (POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB, PGDATA, a "postgres ..." command), so testcontainers' postgres
# module drives it unchanged.
ARG BASE
FROM ${BASE}
ENV PGDATA=/var/lib/postgresql/data
RUN mkdir -p "$PGDATA" /var/run/postgresql && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 700 "$PGDATA"
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
