# A static Go binary (Kratos or Mailpit) on an empty base, run as a non-root
# user: the shape of the guide's runner stage (distroless, nonroot) without
# pulling anything. build.sh puts the program's name in place of NAME, so the
# binary sits where Ory's image has it (/usr/bin/kratos, on PATH): manifests
# and charts written for Ory's image, `command: [kratos]`, run unchanged.
FROM scratch
COPY passwd /etc/passwd
COPY --chown=65532:65532 tmp /tmp
COPY --chown=65532:65532 app /usr/bin/NAME
USER 65532:65532
ENV TMPDIR=/tmp PATH=/usr/local/bin:/usr/bin:/bin
ENTRYPOINT ["/usr/bin/NAME"]
