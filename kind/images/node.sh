#!/usr/bin/env bash
# Assembles the kind node image offline, as kind's own `build node-image`
# does but without a registry: a kind base image from a debootstrapped
# bookworm, the Kubernetes binaries, control-plane images made from the
# binaries binaries.sh built, the stack's images (Postgres, Redis, Mailpit,
# the Kratos under test) imported into the node's containerd, and a bridge CNI
# for the single node (kindnetd is not on the Go module proxy). Runs against
# the private engine (DOCKER_HOST); every image is cached there by its tag.
set -euo pipefail
: "${KIND_CACHE:?set KIND_CACHE}" "${DOCKER_HOST:?set DOCKER_HOST to the private engine}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
K8S=v1.37.2 CONTAINERD=v2.3.4 ETCD=v3.7.0 COREDNS=v1.14.6 KIND=v0.33.0
bin="$KIND_CACHE/bin"
step() { echo "kind-images: $*"; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
# docker build, quiet unless it fails (the legacy builder warns on every call).
build() { docker build -q "$@" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; return 1; }; }
hash_of() { cat "$@" | sha256sum | cut -c1-12; }
work=$(mktemp -d /tmp/kc-kind-images-XXXXXX)
trap 'rm -rf "$work"' EXIT

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)}
[ -n "$mirror" ] || { echo "kind-images: no Debian mirror in this machine's apt configuration" >&2; exit 1; }

# 1. The raw node root file system.
packages="systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,e2fsprogs,bash,ca-certificates,curl,jq,procps,runc,containernetworking-plugins,socat"
raw="kratos-conformance/kind-rootfs:bookworm-$(echo "$packages" | sha256sum | cut -c1-12)"
if ! have "$raw"; then
  step "debootstrap bookworm for the node (about 2 minutes)"
  debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" --numeric-owner -c . | docker import - "$raw" >/dev/null
  rm -rf "$work/rootfs"
fi

# 2. kind's base image.
base="kratos-conformance/kind-base:$KIND-$CONTAINERD-$(hash_of "$here/base/Dockerfile")-${raw##*-}"
if ! have "$base"; then
  step "kind base image $base"
  kindsrc=$(cd "$root" && go mod download -json "sigs.k8s.io/kind@$KIND" | jq -r .Dir)
  mkdir -p "$work/base" && cp -r "$kindsrc/images/base/files" "$work/base/" && chmod -R u+w "$work/base/files"
  cp -r "$bin/containerd-$CONTAINERD" "$work/base/containerd" && cp "$here/base/Dockerfile" "$work/base/"
  build --build-arg RAW="$raw" -t "$base" "$work/base"
fi

# 3. Control-plane and add-on images from the built binaries, under the names kubeadm asks for.
k="$bin/kubernetes-$K8S"
image() { # tag binary path-in-image [from]
  local d="$work/img-$(basename "$2")"
  mkdir -p "$d/tmp" && chmod 1777 "$d/tmp" && cp "$2" "$d/"
  printf 'FROM %s\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCOPY tmp /tmp\nCOPY %s %s\nENTRYPOINT ["%s"]\n' \
    "${4:-scratch}" "$(basename "$2")" "$3" "$3" >"$d/Dockerfile"
  build -t "$1" "$d"
}
control=()
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  image "registry.k8s.io/$c:$K8S" "$k/$c" "/usr/local/bin/$c"; control+=("registry.k8s.io/$c:$K8S")
done
image "registry.k8s.io/kube-proxy:$K8S" "$k/kube-proxy" /usr/local/bin/kube-proxy "$raw" # kube-proxy needs iptables
image "registry.k8s.io/etcd:${ETCD#v}-0" "$bin/etcd-$ETCD" /usr/local/bin/etcd
image "registry.k8s.io/coredns/coredns:$COREDNS" "$bin/coredns-$COREDNS" /coredns
image registry.k8s.io/pause:3.10.2 "$k/pause" /pause
docker tag registry.k8s.io/pause:3.10.2 registry.k8s.io/pause:3.10
control+=("registry.k8s.io/kube-proxy:$K8S" "registry.k8s.io/etcd:${ETCD#v}-0" "registry.k8s.io/coredns/coredns:$COREDNS" registry.k8s.io/pause:3.10.2 registry.k8s.io/pause:3.10)

# 4. The stack's images, built by the containers provider's script into this engine.
step "the stack's images (Postgres, Redis, Mailpit, Kratos)"
"$root/harness/provider/containers/images/build.sh" >"$work/stack.log" 2>&1 || { tail -20 "$work/stack.log" >&2; exit 1; }
# The suite's image changes with every commit: the kind provider loads it
# when a run needs it (-kc.kind-in-cluster) instead of baking it in.
stack=$(grep '^KC_.*_IMAGE=' "$root/.cache/images.env" | grep -v '^KC_SUITE_IMAGE=' | cut -d= -f2)
cp "$root/.cache/images.env" "$KIND_CACHE/images.env"

# 5. The node image, named by everything in it.
node="kratos-conformance/kind-node:$K8S-$(echo "$base ${control[*]} $stack $(hash_of "$0")" | sha256sum | cut -c1-12)"
if ! have "$node"; then
  step "node image $node"
  id="kc-kind-build-$$"
  docker run -d --name "$id" --entrypoint=sleep --security-opt seccomp=unconfined "$base" infinity >/dev/null
  trap 'docker rm -f -v "$id" >/dev/null 2>&1; rm -rf "$work"' EXIT
  for b in kubeadm kubelet kubectl; do docker cp "$k/$b" "$id:/usr/bin/$b"; done
  docker exec "$id" sh -c "chmod +x /usr/bin/kube*; chown root:root /usr/bin/kube*; echo -n $K8S > /kind/version; mkdir -p /etc/cni/net.d"
  docker exec -i "$id" sh -c 'cat > /etc/cni/net.d/10-bridge.conflist' <<'J'
{"cniVersion":"0.4.0","name":"kindbridge","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
J
  docker exec "$id" bash -c 'nohup containerd >/dev/null 2>&1 & for i in $(seq 1 20); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.5; done; ctr info >/dev/null'
  # shellcheck disable=SC2086
  docker save "${control[@]}" $stack | docker exec -i "$id" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  docker exec "$id" pkill containerd >/dev/null 2>&1 || true
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$id" "$node" >/dev/null
fi
echo "$node" >"$KIND_CACHE/node-image"
# Older node images (a pin or a Kratos build changed) only take disk: about 2 GB each.
docker image ls --format '{{.Repository}}:{{.Tag}}' kratos-conformance/kind-node | grep -vxF "$node" | xargs -r docker rmi >/dev/null || true
step "node image ready: $node"
