#!/usr/bin/env bash
# Builds the images the containers provider runs, on a machine whose Docker
# engine can pull nothing: a Debian base made with debootstrap from this
# machine's own apt source, Postgres and Redis on it, and Kratos and Mailpit
# from the suite's pinned static builds, and the suite's own image. Cached: a
# second run only checks tags (the suite is recompiled to hash it).
# Writes .cache/images.env with the KC_*_IMAGE variables the provider reads.
set -euo pipefail
shopt -s inherit_errexit
root=$(cd "$(dirname "$0")/../../../.." && pwd)
here="$root/harness/provider/containers/images"
cd "$root"
# Every temporary file of the build (the Debian root, the image context, the
# tools' logs, shown only when a step fails) is in one folder, gone on exit.
tmp=$(mktemp -d /tmp/kc-images-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

command -v docker >/dev/null || { echo "images: docker is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "images: the Docker engine is not reachable; start it, or use the process provider (make certify)" >&2; exit 1; }

have() { docker image inspect "$1" >/dev/null 2>&1; }
hash_of() { cat "$@" | sha256sum | cut -c1-12; }

# 1. Debian base with the server packages, from the machine's configured mirror.
packages="postgresql-15,redis-server,ca-certificates"
base="kratos-conformance/debian-base:bookworm-$(echo "$packages" | sha256sum | cut -c1-12)"
if ! have "$base"; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)}
  [ -n "$mirror" ] || { echo "images: no Debian mirror found in this machine's apt configuration" >&2; exit 1; }
  rootfs="$tmp/rootfs"
  mkdir "$rootfs"
  echo "images: debootstrap bookworm with $packages from $mirror (about 80 s)"
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
    || { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base" >/dev/null
  rm -rf "$rootfs"
fi
echo "images: base $base"

build() { # name tag context dockerfile [build-args...]
  local image="kratos-conformance/$1:$2"; shift 2
  if ! have "$image"; then
    docker build --force-rm -t "$image" "$@" >"$tmp/build.log" 2>&1 \
      || { tail -20 "$tmp/build.log" >&2; echo "images: building $image failed" >&2; return 1; }
  fi
  echo "$image"
}

# 2. Postgres and Redis on the base, honouring the official images' environment contract.
pg=$(build postgres "15-$(hash_of "$here/postgres.Dockerfile" "$here/postgres-entrypoint.sh")-${base##*-}" \
  --build-arg BASE="$base" -f "$here/postgres.Dockerfile" "$here")
redis=$(build redis "7-$(hash_of "$here/redis.Dockerfile")-${base##*-}" --build-arg BASE="$base" -f "$here/redis.Dockerfile" "$here")

# 3. Kratos and Mailpit from the pinned static builds, on an empty base as a non-root user.
bins=$(go run ./cmd/kcbuild | awk '/^(Kratos|Mailpit) v/ {print $3}')
kratos_bin=$(echo "$bins" | sed -n 1p); mailpit_bin=$(echo "$bins" | sed -n 2p)
ctx="$tmp/ctx"
mkdir "$ctx"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' > "$ctx/passwd"
mkdir -m 1777 "$ctx/tmp"
cp "$kratos_bin" "$ctx/app"
sed 's/NAME/kratos/g' "$here/static.Dockerfile" > "$ctx/Dockerfile"
kratos=$(build kratos "$(basename "$kratos_bin" | sed 's/^kratos-//')-$(hash_of "$here/static.Dockerfile")" "$ctx")
cp "$mailpit_bin" "$ctx/app"
sed 's/NAME/mailpit/g' "$here/static.Dockerfile" > "$ctx/Dockerfile"
mailpit=$(build mailpit "$(basename "$mailpit_bin" | sed 's/^mailpit-//')-$(hash_of "$here/static.Dockerfile")" "$ctx")

# 4. The suite itself on the Debian base (kind/incluster runs it in a cluster).
rm -f "$ctx/app"
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo -dirty || true)"
CGO_ENABLED=0 go test -c -trimpath -ldflags "-X kratos-conformance/reports.Commit=$commit" -o "$ctx/kratos-conformance" ./suites/conformance
cp "$here/in-cluster-run" "$ctx/"
suite=$(build suite "$(hash_of "$ctx/kratos-conformance" "$here/in-cluster-run" "$here/suite.Dockerfile")" \
  --build-arg BASE="$base" -f "$here/suite.Dockerfile" "$ctx")

mkdir -p .cache
cat > .cache/images.env <<ENV
KC_POSTGRES_IMAGE=$pg
KC_REDIS_IMAGE=$redis
KC_KRATOS_IMAGE=$kratos
KC_MAILPIT_IMAGE=$mailpit
# The suite's own image (not a stack component): -kc.k8s-suite-image.
KC_SUITE_IMAGE=$suite
# testcontainers-go reads these from the environment: no reaper (its image
# cannot be pulled here; the suite removes its containers by label), and the
# local engine's mapped ports on loopback.
TESTCONTAINERS_RYUK_DISABLED=true
TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
ENV
echo "images: ready (.cache/images.env):"
cat .cache/images.env
