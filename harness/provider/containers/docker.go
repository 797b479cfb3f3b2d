package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// LabelRun is on every container and network a run makes; its value is the run id.
const LabelRun = "org.kratos-conformance.run"

// dockerClient connects to the engine testcontainers uses and checks it
// answers within timeout, so a missing engine fails fast and clearly.
func dockerClient(ctx context.Context, timeout time.Duration) (*testcontainers.DockerClient, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// testcontainers silently falls back to the default socket when DOCKER_HOST
	// does not answer; the user named that engine, so it must answer.
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		named, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
		if err == nil {
			_, err = named.Ping(ctx, client.PingOptions{})
			named.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("the Docker engine at DOCKER_HOST=%s is not reachable (%v): start it, fix DOCKER_HOST, or run without Docker: -kc.provider=process", host, err)
		}
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("the Docker engine is not reachable (%v): start it, or run without Docker: -kc.provider=process", err)
	}
	return cli, nil
}

// Leftovers counts what still carries the run's label.
type Leftovers struct{ Containers, Networks, Volumes int }

func (l Leftovers) Zero() bool { return l == Leftovers{} }

// CountLeftovers lists containers (running or not), networks and volumes labelled with runID.
func CountLeftovers(ctx context.Context, runID string) (Leftovers, error) {
	cli, err := dockerClient(ctx, 10*time.Second)
	if err != nil {
		return Leftovers{}, err
	}
	defer cli.Close()
	f := client.Filters{}.Add("label", LabelRun+"="+runID)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return Leftovers{}, err
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return Leftovers{}, err
	}
	vs, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return Leftovers{}, err
	}
	return Leftovers{Containers: len(cs.Items), Networks: len(ns.Items), Volumes: len(vs.Items)}, nil
}

// sweep removes everything labelled with runID: the harness's own cleanup,
// which does not depend on the reaper (Ryuk), whose image cannot be pulled here.
func sweep(ctx context.Context, runID string) error {
	cli, err := dockerClient(ctx, 10*time.Second)
	if err != nil {
		return err
	}
	defer cli.Close()
	f := client.Filters{}.Add("label", LabelRun+"="+runID)
	var errs []error
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	errs = append(errs, err)
	for _, c := range cs.Items {
		_, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		errs = append(errs, err)
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	errs = append(errs, err)
	for _, n := range ns.Items {
		_, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		errs = append(errs, err)
	}
	vs, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	errs = append(errs, err)
	for _, v := range vs.Items {
		_, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing the run's Docker objects (label %s=%s): %w; you may need to remove them by hand", LabelRun, runID, err)
	}
	return nil
}
