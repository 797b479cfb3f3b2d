# redis-server 7 from Debian on the debootstrap base; nothing persisted.
ARG BASE
FROM ${BASE}
USER redis
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", "/tmp"]
