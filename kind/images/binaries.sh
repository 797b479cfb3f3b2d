#!/usr/bin/env bash
# Builds, from the Go module proxy and this machine's gcc, every binary a kind
# node needs: Kubernetes (kubeadm, kubelet, kubectl and the control plane),
# containerd, etcd, CoreDNS, pause, and kind itself. Each is cached by its pin
# under $KIND_CACHE/bin/<pin>/, outside the clone, so a fresh clone reuses it.
# Cold: about 25 minutes on 2 cores; warm: seconds.
set -euo pipefail
: "${KIND_CACHE:?set KIND_CACHE to the kind cache folder}"
K8S=v1.37.2 CONTAINERD=v2.3.4 ETCD=v3.7.0 COREDNS=v1.14.6 KIND=v0.33.0
bin="$KIND_CACHE/bin"
src="$KIND_CACHE/src"
mkdir -p "$bin" "$src"
export GOFLAGS=-modcacherw CGO_ENABLED=0

step() { echo "kind-images: $*"; }
timed() { local s=$SECONDS; "$@"; step "  done in $((SECONDS - s)) s"; }

# Kubernetes: the module zip has an empty vendor/ and no staging/, so every
# "=> ./staging/..." replace points at the published k8s.io/X module instead.
k8s_out="$bin/kubernetes-$K8S"
if [ ! -x "$k8s_out/kubeadm" ] || [ ! -x "$k8s_out/kube-proxy" ]; then
  step "Kubernetes $K8S: kubeadm, kubelet, kubectl, kube-apiserver, -controller-manager, -scheduler, -proxy (about 20 minutes cold)"
  dir=$(go mod download -json "k8s.io/kubernetes@$K8S" | jq -r .Dir)
  rm -rf "$src/kubernetes-$K8S" && cp -r "$dir" "$src/kubernetes-$K8S" && chmod -R u+w "$src/kubernetes-$K8S"
  (
    cd "$src/kubernetes-$K8S"
    rm -f go.work go.work.sum
    minor=${K8S#v1.}; minor=${minor%%.*}
    for m in $(awk '/=> \.\/staging/ {print $1}' go.mod); do go mod edit -replace "$m=$m@v0.$minor.${K8S##*.}"; done
    go mod edit -dropreplace k8s.io/sample-cli-plugin -dropreplace k8s.io/sample-controller
    ld="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
    mkdir -p "$k8s_out.tmp"
    timed nice -n 10 go build -mod=mod -trimpath -ldflags "$ld" -o "$k8s_out.tmp/" \
      ./cmd/kubeadm ./cmd/kubelet ./cmd/kubectl ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kube-proxy
    # pause: the upstream C source, static.
    gcc -Os -static -o "$k8s_out.tmp/pause" build/pause/linux/pause.c && strip "$k8s_out.tmp/pause"
  )
  rm -rf "$k8s_out" && mv "$k8s_out.tmp" "$k8s_out"
fi

containerd_out="$bin/containerd-$CONTAINERD"
if [ ! -x "$containerd_out/containerd" ]; then
  step "containerd $CONTAINERD, ctr and the runc shim (about 3 minutes cold)"
  timed nice -n 10 env GOBIN="$containerd_out.tmp" CGO_ENABLED=1 go install -trimpath \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD" -tags "no_aufs no_zfs no_btrfs no_devmapper" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD" "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD"
  rm -rf "$containerd_out" && mv "$containerd_out.tmp" "$containerd_out"
fi

# etcd's main package sits in a module with replaces: a wrapper module calls it.
etcd_out="$bin/etcd-$ETCD"
if [ ! -x "$etcd_out" ]; then
  step "etcd $ETCD (about 1 minute cold)"
  rm -rf "$src/etcd" && mkdir -p "$src/etcd"
  (
    cd "$src/etcd"
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
    go mod init kratos-conformance/etcd >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD" >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1
    timed nice -n 10 go build -trimpath -ldflags "-s -w" -o "$etcd_out" .
  )
fi

for m in "coredns github.com/coredns/coredns@$COREDNS" "kind sigs.k8s.io/kind@$KIND"; do
  name=${m%% *} mod=${m#* }
  out="$bin/$name-${mod##*@}"
  if [ ! -x "$out" ]; then
    step "$mod"
    rm -rf "$out.tmp" && mkdir -p "$out.tmp"
    timed nice -n 10 env GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "$mod"
    mv "$out.tmp/$name" "$out" && rm -rf "$out.tmp"
  fi
done
step "binaries ready in $bin"
