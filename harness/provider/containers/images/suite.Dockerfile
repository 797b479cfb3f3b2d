# The suite itself, for a certification run inside a cluster (kind/incluster):
# the compiled suite on the Debian base, which has the sh and tar that
# kubectl cp needs to copy the report out, as a non-root user.
ARG BASE
FROM ${BASE}
COPY kratos-conformance in-cluster-run /usr/local/bin/
USER 65532:65532
ENV TMPDIR=/tmp HOME=/tmp
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/in-cluster-run"]
