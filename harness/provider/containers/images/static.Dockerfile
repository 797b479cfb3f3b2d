# A static Go binary (Kratos or Mailpit) on an empty base, run as a non-root
# user: the shape of the guide's runner stage (distroless, nonroot) without
# pulling anything.
FROM scratch
COPY passwd /etc/passwd
COPY --chown=65532:65532 tmp /tmp
COPY --chown=65532:65532 app /usr/bin/app
USER 65532:65532
ENV TMPDIR=/tmp
ENTRYPOINT ["/usr/bin/app"]
