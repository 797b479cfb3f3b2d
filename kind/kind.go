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
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

//go:embed manifests/*.yaml
var files embed.FS

// Objects are the decoded manifests, by kind.
type Objects struct {
	Namespaces  []corev1.Namespace
	ConfigMaps  []corev1.ConfigMap
	Secrets     []corev1.Secret
	Deployments []appsv1.Deployment
	Services    []corev1.Service
	Ingresses   []networkingv1.Ingress
}

// Manifests decodes the manifests shipped in manifests/, in file order.
func Manifests() (*Objects, error) {
	names, err := fs.Glob(files, "manifests/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var all bytes.Buffer
	for _, n := range names {
		b, _ := files.ReadFile(n)
		fmt.Fprintf(&all, "---\n# %s\n%s\n", n, b)
	}
	return Decode(all.Bytes())
}

// Decode reads a multi-document YAML stream strictly: an unknown field or
// kind is an error, so a typo cannot slip through as an ignored key.
func Decode(stream []byte) (*Objects, error) {
	objs := &Objects{}
	for i, doc := range splitDocs(stream) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
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
		case "v1/Service":
			err = decodeInto(doc, &objs.Services)
		case "networking.k8s.io/v1/Ingress":
			err = decodeInto(doc, &objs.Ingresses)
		default:
			err = fmt.Errorf("unexpected %s %s", head.APIVersion, head.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, head.Kind, err)
		}
	}
	return objs, nil
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
