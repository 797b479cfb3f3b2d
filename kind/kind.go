// Package kind holds the deployment guide's Kubernetes manifests (manifests/)
// and the kind cluster config, decodes them strictly into Kubernetes API
// types, renders the per-cluster Secrets from the suite's fixture profile, and
// checks them against the guide's checklist and their own wiring.
package kind

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

//go:embed manifests/*.yaml chart/*.yaml
var files embed.FS

// The layouts the kind provider deploys: the guide's manifests, or Ory's Helm
// chart's objects (chart/) beside the guide's namespace and test infrastructure.
const (
	LayoutGuide = "guide"
	LayoutChart = "chart"
	LayoutHelm  = "helm" // an operator's chart through Helm's SDK (-kc.helm-chart); here only the namespace and test infrastructure
)

// layoutFiles are each layout's files, in apply order.
var layoutFiles = map[string][]string{
	LayoutGuide: {"manifests/*.yaml"},
	LayoutChart: {"manifests/00-namespace.yaml", "chart/*.yaml", "manifests/50-test-infra.yaml"},
	LayoutHelm:  {"manifests/00-namespace.yaml", "manifests/50-test-infra.yaml"},
}

// Objects are the decoded manifests, by kind.
type Objects struct {
	Namespaces   []corev1.Namespace
	ConfigMaps   []corev1.ConfigMap
	Secrets      []corev1.Secret
	Deployments  []appsv1.Deployment
	StatefulSets []appsv1.StatefulSet
	Jobs         []batchv1.Job // Helm hooks: run to completion before the rest
	Services     []corev1.Service
	Ingresses    []networkingv1.Ingress
	Routes       []Route // Gateway API routes, where their CRDs exist
}

// Route is a Gateway API route (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute,
// UDPRoute) as far as the suite reads it: the Services it sends traffic to.
// The suite does not import the Gateway API's types for this.
type Route struct {
	Kind     string
	Name     string
	Backends []RouteBackend
}

// RouteBackend is one backendRef of a route; Port 0 when it names none.
type RouteBackend struct {
	Service string
	Port    int32
}

// routeDoc is the part of a Gateway API route's document the suite reads.
type routeDoc struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Rules []struct {
			BackendRefs []struct {
				Group string `json:"group"`
				Kind  string `json:"kind"`
				Name  string `json:"name"`
				Port  int32  `json:"port"`
			} `json:"backendRefs"`
		} `json:"rules"`
	} `json:"spec"`
}

// DecodeRoute reads a Gateway API route's JSON or YAML; backendRefs to
// anything but a core Service are left out.
func DecodeRoute(doc []byte) (Route, error) {
	var d routeDoc
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return Route{}, err
	}
	r := Route{Kind: d.Kind, Name: d.Metadata.Name}
	for _, rule := range d.Spec.Rules {
		for _, b := range rule.BackendRefs {
			if b.Group == "" && (b.Kind == "" || b.Kind == "Service") {
				r.Backends = append(r.Backends, RouteBackend{Service: b.Name, Port: b.Port})
			}
		}
	}
	return r, nil
}

// IsRoute says whether apiVersion and kind name a Gateway API route.
func IsRoute(apiVersion, kind string) bool {
	return strings.HasPrefix(apiVersion, "gateway.networking.k8s.io/") && strings.HasSuffix(kind, "Route")
}

// PodSpecs are the pod templates of every workload, to edit in place.
func (o *Objects) PodSpecs() []*corev1.PodSpec {
	var out []*corev1.PodSpec
	for i := range o.Deployments {
		out = append(out, &o.Deployments[i].Spec.Template.Spec)
	}
	for i := range o.StatefulSets {
		out = append(out, &o.StatefulSets[i].Spec.Template.Spec)
	}
	for i := range o.Jobs {
		out = append(out, &o.Jobs[i].Spec.Template.Spec)
	}
	return out
}

// Manifests decodes the guide's manifests shipped in manifests/, in file order.
func Manifests() (*Objects, error) { return LayoutManifests(LayoutGuide) }

// LayoutManifests decodes a layout's files, in their order.
func LayoutManifests(layout string) (*Objects, error) {
	patterns, ok := layoutFiles[layout]
	if !ok {
		return nil, fmt.Errorf("no kind layout %q: use %s or %s", layout, LayoutGuide, LayoutChart)
	}
	var all bytes.Buffer
	for _, p := range patterns {
		names, err := fs.Glob(files, p)
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		for _, n := range names {
			b, _ := files.ReadFile(n)
			fmt.Fprintf(&all, "---\n# %s\n%s\n", n, b)
		}
	}
	return Decode(all.Bytes())
}

// Decode reads a multi-document YAML stream strictly: an unknown field or
// kind is an error, so a typo cannot slip through as an ignored key.
func Decode(stream []byte) (*Objects, error) {
	objs, _, err := decode(stream, false)
	return objs, err
}

// DecodeKnown reads the kinds the suite reads (a rendered chart's Helm
// applies itself) strictly, and names the others it skipped, e.g.
// "ServiceAccount kratos".
func DecodeKnown(stream []byte) (*Objects, []string, error) {
	return decode(stream, true)
}

func decode(stream []byte, skipUnknown bool) (*Objects, []string, error) {
	objs, skipped := &Objects{}, []string{}
	for i, doc := range splitDocs(stream) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		var err error
		switch head.APIVersion + "/" + head.Kind {
		case "v1/Namespace":
			err = decodeInto(doc, &objs.Namespaces)
		case "v1/ConfigMap":
			err = decodeInto(doc, &objs.ConfigMaps)
		case "v1/Secret":
			err = decodeInto(doc, &objs.Secrets)
		case "apps/v1/Deployment":
			err = decodeInto(doc, &objs.Deployments)
		case "apps/v1/StatefulSet":
			err = decodeInto(doc, &objs.StatefulSets)
		case "batch/v1/Job":
			err = decodeInto(doc, &objs.Jobs)
		case "v1/Service":
			err = decodeInto(doc, &objs.Services)
		case "networking.k8s.io/v1/Ingress":
			err = decodeInto(doc, &objs.Ingresses)
		default:
			if IsRoute(head.APIVersion, head.Kind) {
				var r Route
				r, err = DecodeRoute(doc)
				objs.Routes = append(objs.Routes, r)
				break
			}
			if skipUnknown {
				skipped = append(skipped, head.Kind+" "+head.Metadata.Name)
				continue
			}
			err = fmt.Errorf("unexpected %s %s", head.APIVersion, head.Kind)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("document %d (%s): %w", i, head.Kind, err)
		}
	}
	return objs, skipped, nil
}

func decodeInto[T any](doc []byte, list *[]T) error {
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return err
	}
	*list = append(*list, obj)
	return nil
}

func splitDocs(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split("\n"+string(stream), "\n---") {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Kinds counts the decoded objects by kind, for messages.
func (o *Objects) Kinds() string {
	var parts []string
	for _, k := range []struct {
		kind string
		n    int
	}{{"Namespace", len(o.Namespaces)}, {"ConfigMap", len(o.ConfigMaps)}, {"Secret", len(o.Secrets)}, {"Deployment", len(o.Deployments)},
		{"StatefulSet", len(o.StatefulSets)}, {"Job", len(o.Jobs)}, {"Service", len(o.Services)}, {"Ingress", len(o.Ingresses)}, {"Gateway API route", len(o.Routes)}} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k.n, k.kind))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
