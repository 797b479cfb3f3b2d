package provider

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"kratos-conformance/harness"
	k8sprovider "kratos-conformance/harness/provider/kubernetes"
	manifests "kratos-conformance/kind"
)

// discover hands the deployed cluster to the kubernetes provider's reading:
// clients come in through the NodePort relay, as with forwardAll, and the run's
// CA is the one the public certificate was made by.
func (s *Stack) discover(ctx context.Context, publicPort int) error {
	var err error
	suiteImage := ""
	if s.opts.InCluster {
		suiteImage = s.opts.images.suite
	}
	s.reader, err = k8sprovider.Attach(harness.StackInput{Config: s.cfg, RunID: s.runID, LogDir: s.logDir}, s.rest, k8sprovider.Options{
		SuiteImage: suiteImage, SuiteAs: k8sprovider.SuiteAsJob,
		Namespace: namespace, PublicURL: "https://" + s.site.PublicHost + ":" + strconv.Itoa(publicPort) + "/", Resolve: s.site.Resolve(), CAFile: filepath.Join(s.logDir, "ca.crt")})
	if err != nil {
		return err
	}
	if err := s.reader.Up(ctx); err != nil {
		return err
	}
	s.ep = s.reader.Endpoints()
	got := s.reader.Environment()
	s.env.KratosVersion, s.env.PostgresVersion, s.env.RedisVersion = got.KratosVersion, got.PostgresVersion, got.RedisVersion
	maps.Copy(s.env.Components, got.Components)
	s.env.Components["cluster"] = "kind " + s.name + " (node image " + s.opts.nodeImage + "), read as -kc.provider=kubernetes reads a cluster"
	return nil
}

// SuiteImage and RunInCluster: with -kc.kind-in-cluster, the suite's image
// loaded into the node, run as the kubernetes provider runs it.
func (s *Stack) SuiteImage() string {
	if s.reader == nil {
		return ""
	}
	return s.reader.SuiteImage()
}

func (s *Stack) RunInCluster(ctx context.Context, dir string) (harness.InClusterRun, error) {
	if s.reader == nil {
		return harness.InClusterRun{ExitCode: -1}, errors.New("-kc.kind-in-cluster was not given")
	}
	return s.reader.RunInCluster(ctx, dir)
}

// GeneratorEndpoints and RunGenerators: with -kc.kind-in-cluster, load
// generators run as the kubernetes provider runs them.
func (s *Stack) GeneratorEndpoints(ctx context.Context) (harness.Endpoints, error) {
	if s.reader == nil {
		return harness.Endpoints{}, errors.New("-kc.load-generators on kind needs -kc.kind-in-cluster")
	}
	return s.reader.GeneratorEndpoints(ctx)
}

func (s *Stack) RunGenerators(ctx context.Context, specs [][]byte, lines func(int, []byte)) error {
	if s.reader == nil {
		return errors.New("-kc.load-generators on kind needs -kc.kind-in-cluster")
	}
	return s.reader.RunGenerators(ctx, specs, lines)
}

// Manifests are the objects as read back from the cluster, with
// -kc.kind-discover only; with -kc.helm-chart also the hook Jobs Helm ran
// to success, and what they mount, where the cluster no longer has them.
func (s *Stack) Manifests() *manifests.Objects {
	if s.reader == nil {
		return nil
	}
	read := s.reader.Manifests()
	if read == nil || s.helmHooks == nil {
		return read
	}
	o := *read
	o.Jobs = addMissing(read.Jobs, s.helmHooks.Jobs, func(j batchv1.Job) string { return j.Name })
	o.ConfigMaps = addMissing(read.ConfigMaps, s.helmHooks.ConfigMaps, func(c corev1.ConfigMap) string { return c.Name })
	o.Secrets = addMissing(read.Secrets, s.helmHooks.Secrets, func(c corev1.Secret) string { return c.Name })
	return &o
}

// addMissing is have with the objects of extra whose name it lacks.
func addMissing[T any](have, extra []T, name func(T) string) []T {
	out := slices.Clone(have)
	for _, e := range extra {
		if !slices.ContainsFunc(out, func(h T) bool { return name(h) == name(e) }) {
			out = append(out, e)
		}
	}
	return out
}
