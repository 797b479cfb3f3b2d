// Package kind is the kind provider's preflight: it decides within
// seconds whether kind can create a cluster on this machine and, when it
// cannot, says exactly why and what to do. Creating the cluster, applying
// kind/'s manifests and reaching the services needs a node image, which no
// machine this project has run on could pull; that part is not built yet.
package kind

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"
)

// NodeImage is the node image this kind version creates clusters from.
var NodeImage = defaults.Image

// Preflight checks what kind needs before it can create a cluster: the docker
// CLI, a reachable engine, and the node image present locally.
func Preflight(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("kind needs the docker CLI and engine; none is installed: use -kc.provider=process")
	}
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("kind needs a Docker engine, and it is not reachable (%s): start it, or use -kc.provider=process", strings.TrimSpace(string(out)))
	}
	name, _, _ := strings.Cut(NodeImage, "@")
	if err := exec.CommandContext(ctx, "docker", "image", "inspect", name).Run(); err != nil {
		return fmt.Errorf("kind cannot create a cluster on this machine: its node image %s is not present locally and "+
			"no registry can be reached to pull it. Load it first (on a connected machine: docker pull %s && docker save %s "+
			"-o node.tar; here: docker load -i node.tar), or certify with -kc.provider=process or containers; "+
			"kind/'s manifests are still checked offline by `make unit`", name, name, name)
	}
	return fmt.Errorf("the node image %s is present, but the kind provider's cluster path (create, load images, apply "+
		"kind/manifests, port-forward) is not built yet: no machine so far could create a cluster to test it", name)
}
