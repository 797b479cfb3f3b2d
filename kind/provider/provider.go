// Package provider is the kind provider: the deployment guide's manifests
// (kind/manifests) on a kind cluster, created in a private Docker engine
// (package engine) from a node image built offline by make kind-images, and
// reached by client-go port-forwarding.
//
// Three things are called kind here: this provider (kind/provider), the
// manifests it applies (package kind, kind/*.go, imported as manifests) and
// the library that makes the cluster (sigs.k8s.io/kind, its cluster package
// imported as kindcluster). The provider is not part of package kind: the
// kubernetes provider, which it imports, imports package kind.
package provider

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
	manifests "kratos-conformance/kind"
	"kratos-conformance/kind/engine"
)

func init() {
	harness.RegisterProvider("kind", "the guide's manifests on a kind cluster in a private Docker engine (make kind-images first)",
		func() harness.Provider { return &provider{} })
}

// Options are the kind provider's own flags, and what make kind-images left in the cache.
type Options struct {
	NodeImage string // -kc.kind-node-image; empty: the one make kind-images built
	Layout    string // -kc.kind-layout: manifests.LayoutGuide or LayoutChart
	Discover  bool   // -kc.kind-discover: read the deployment back as -kc.provider=kubernetes does
	InCluster bool   // -kc.kind-in-cluster: load the suite's image into the node; INCLUSTER-001 runs it (implies Discover)
	// HelmChart and HelmValues: the operator's chart and values files,
	// installed with Helm's SDK (layout helm; implies Discover).
	HelmChart  string
	HelmValues string

	cache     string // the kind cache folder (make kind-images)
	nodeImage string
	images    stackImages
}

type stackImages struct{ kratos, postgres, redis, mailpit, suite string }

type provider struct{ o Options }

func (p *provider) Flags(f *harness.Flags) {
	f.String(&p.o.NodeImage, "kind-node-image", "kind: node image in the private engine; default: the one make kind-images built")
	p.o.Layout = manifests.LayoutGuide
	f.String(&p.o.Layout, "kind-layout", "kind: what to deploy: guide (the guide's manifests, kind/manifests) or chart (Ory's Helm chart's objects, kind/chart)")
	f.Bool(&p.o.InCluster, "kind-in-cluster", "kind: load the suite's own image (make kind-images) into the node and run the certification inside the cluster as a Job too (INCLUSTER-001); implies -kc.kind-discover")
	f.String(&p.o.HelmChart, "helm-chart", "kind: an operator's Helm chart (folder or .tgz), rendered and installed with Helm's Go SDK (hooks such as the migration Job first, by weight) beside the suite's Postgres, Redis and Mailpit, then certified as -kc.provider=kubernetes reads a cluster; the suite's values (image, DSN, SMTP, public URL and TLS, NodePort) are listed as overlays. Values in the layout of Ory's chart")
	f.String(&p.o.HelmValues, "helm-values", "kind: the operator's values files for -kc.helm-chart, comma-separated, later files win (as helm -f)")
	f.Bool(&p.o.Discover, "kind-discover", "kind: once deployed, read the deployment back from the cluster as -kc.provider=kubernetes does (its objects, config, courier, migrations, logs, and the manifest checks) instead of from what the suite rendered")
}

// Validate checks the flags' form and combinations; Prepare finds what
// make kind-images built.
func (p *provider) Validate(c *harness.Config) error {
	if c.LoadGenerators > 0 && !p.o.InCluster {
		return errors.New("-kc.load-generators on kind runs the suite's image in the cluster: add -kc.kind-in-cluster")
	}
	if p.o.discovers() && (c.Faults || c.Race > 0) {
		return errors.New("-kc.kind-discover (implied by -kc.kind-in-cluster and -kc.helm-chart) reads a deployment it does not touch: drop -kc.faults and -kc.race, which restart its pods")
	}
	if p.o.HelmChart != "" && len(c.LoadReplicas) > 0 {
		return errors.New("-kc.load-replicas scales the suite's own serve Deployment; an operator's chart (-kc.helm-chart) names its own: drop -kc.load-replicas")
	}
	if p.o.Layout != "" && p.o.Layout != manifests.LayoutGuide && p.o.Layout != manifests.LayoutChart {
		return fmt.Errorf("-kc.kind-layout=%q: use %s or %s (an operator's chart: -kc.helm-chart)", p.o.Layout, manifests.LayoutGuide, manifests.LayoutChart)
	}
	return p.o.validateHelm(c)
}

// discovers: the deployment is read back as the kubernetes provider reads a
// cluster, asked for or implied by an in-cluster run or an operator's chart.
func (o *Options) discovers() bool { return o.Discover || o.InCluster || o.HelmChart != "" }

// settle fills in what the flags imply: reading back, and the helm layout
// for an operator's chart.
func (o *Options) settle() {
	o.Discover = o.discovers()
	o.Layout = cmp.Or(o.Layout, manifests.LayoutGuide)
	if o.HelmChart != "" {
		o.Layout = manifests.LayoutHelm
	}
}

// Prepare finds what make kind-images built and checks this machine can run
// the private engine, within seconds.
func (p *provider) Prepare() error {
	p.o.settle()
	if err := engine.Preflight(); err != nil {
		return fmt.Errorf("-kc.provider=kind: %w", err)
	}
	cache, err := build.CacheDir()
	if err != nil {
		return err
	}
	p.o.cache = filepath.Join(cache, "kind")
	p.o.nodeImage = p.o.NodeImage
	if p.o.nodeImage == "" {
		b, err := os.ReadFile(filepath.Join(p.o.cache, "node-image"))
		if err != nil {
			return errors.New("-kc.provider=kind: no kind node image has been built on this machine: run make kind-images (cold: 25-40 minutes, about 20 GB)")
		}
		p.o.nodeImage = strings.TrimSpace(string(b))
	}
	p.o.images, err = readImages(filepath.Join(p.o.cache, "images.env"))
	if err != nil {
		return err
	}
	if p.o.InCluster && p.o.images.suite == "" {
		return errors.New("-kc.kind-in-cluster: make kind-images has not built the suite's image on this machine: run it again")
	}
	// kind's library runs the docker CLI, which reads DOCKER_HOST from this
	// process's environment and nothing else; the suite does not change its
	// own environment, so the command that starts it points it at the engine.
	if want := engine.New(filepath.Join(p.o.cache, "engine")).Host(); os.Getenv("DOCKER_HOST") != want {
		return fmt.Errorf("-kc.provider=kind: kind must reach the private engine: start the suite with DOCKER_HOST=%s (make certify-kind does)", want)
	}
	return nil
}

// readImages reads the stack's image names make kind-images baked into the node.
func readImages(path string) (stackImages, error) {
	f, err := os.Open(path)
	if err != nil {
		return stackImages{}, fmt.Errorf("-kc.provider=kind: %s is missing: run make kind-images", path)
	}
	defer f.Close()
	var im stackImages
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "KC_KRATOS_IMAGE":
			im.kratos = v
		case "KC_POSTGRES_IMAGE":
			im.postgres = v
		case "KC_REDIS_IMAGE":
			im.redis = v
		case "KC_MAILPIT_IMAGE":
			im.mailpit = v
		case "KC_SUITE_IMAGE":
			im.suite = v
		}
	}
	if im.kratos == "" || im.postgres == "" || im.redis == "" || im.mailpit == "" {
		return im, fmt.Errorf("-kc.provider=kind: %s lacks an image name: run make kind-images", path)
	}
	return im, sc.Err()
}

func (p *provider) New(_ context.Context, in harness.StackInput) (harness.Stack, error) {
	s := newStack(in, p.o)
	if p.o.HelmChart != "" {
		// Render before any cluster: values that do not render, or a chart
		// without a Kratos the suite can find, cost seconds.
		var err error
		if s.helm, err = manifests.LoadHelm(p.o.HelmChart, p.o.helmValues()); err != nil {
			return nil, err
		}
		if _, err := s.renderHelm(30443); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// validateHelm checks -kc.helm-chart and -kc.helm-values.
func (o *Options) validateHelm(c *harness.Config) error {
	if o.HelmChart == "" {
		if o.HelmValues != "" {
			return errors.New("-kc.helm-values goes with -kc.helm-chart")
		}
		return nil
	}
	if _, err := os.Stat(o.HelmChart); err != nil {
		return fmt.Errorf("-kc.helm-chart: %w", err)
	}
	for _, f := range o.helmValues() {
		if err := harness.CheckFile("helm-values", f); err != nil {
			return err
		}
	}
	if o.Layout == manifests.LayoutChart {
		return fmt.Errorf("-kc.helm-chart installs the operator's chart: drop -kc.kind-layout=%s", o.Layout)
	}
	if c.Break != "" || c.Profile != "guide" || c.UpgradeFrom != "" {
		return errors.New("-kc.helm-chart: the config is the operator's, in their values: drop -kc.break, -kc.profile and -kc.upgrade-from")
	}
	return nil
}

// helmValues splits -kc.helm-values.
func (o *Options) helmValues() []string {
	var out []string
	for _, f := range strings.Split(o.HelmValues, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
