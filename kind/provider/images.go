package provider

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
)

// loadImage copies an image of the private engine into the node's
// containerd, as kind load docker-image does: the suite's image changes with
// every commit, so it is not baked into the node image.
func (s *Stack) loadImage(ctx context.Context, image string) error {
	nodes, err := s.kind.ListNodes(s.name)
	if err != nil || len(nodes) == 0 {
		return fmt.Errorf("the nodes of cluster %s: %v", s.name, err)
	}
	save := exec.CommandContext(ctx, "docker", "save", image) // DOCKER_HOST: the private engine (Validate checked)
	out, err := save.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	save.Stderr = &stderr
	if err := save.Start(); err != nil {
		return fmt.Errorf("docker save %s: %w", image, err)
	}
	loadErr := nodeutils.LoadImageArchive(nodes[0], out)
	_, _ = io.Copy(io.Discard, out)
	if err := save.Wait(); err != nil {
		return fmt.Errorf("docker save %s: %w: %s (make kind-images builds it)", image, err, strings.TrimSpace(stderr.String()))
	}
	if loadErr != nil {
		return fmt.Errorf("load %s into the node of cluster %s: %w", image, s.name, loadErr)
	}
	return nil
}
