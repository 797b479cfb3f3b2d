package checks

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"kratos-conformance/kind"
	"kratos-conformance/reports"
)

// renderTestChart renders the chart written for the suite's tests (Ory's
// values layout, not the suite's manifests) with values on top of good.yaml.
func renderTestChart(t *testing.T, values map[string]any) *kind.Objects {
	t.Helper()
	h, err := kind.LoadHelm("../../kind/testdata/kratos-chart", []string{"../../kind/testdata/values/good.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Render("kratos", "identity", values, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Objects
}

func decodeExtra(t *testing.T, o *kind.Objects, doc string) {
	t.Helper()
	extra, _, err := kind.DecodeKnown([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	o.Ingresses = append(o.Ingresses, extra.Ingresses...)
	o.Routes = append(o.Routes, extra.Routes...)
}

// Each way the review found to the admin API from outside the cluster, on
// a chart in Ory's layout (port 80 → the container port named http-admin),
// fails KM-ADMIN-001; the chart's ClusterIP default passes.
func TestAdminExposure(t *testing.T) {
	cases := map[string]struct {
		values map[string]any
		edit   func(*testing.T, *kind.Objects)
		want   string // "" for a pass
	}{
		"ClusterIP admin Service": {},
		"admin Service as LoadBalancer": {values: map[string]any{"service": map[string]any{"admin": map[string]any{"type": "LoadBalancer"}}},
			want: "Service kratos-admin (type LoadBalancer) sends port 80 to serve's admin port 4434"},
		"admin Service with externalIPs": {edit: func(t *testing.T, o *kind.Objects) {
			for i := range o.Services {
				if o.Services[i].Name == "kratos-admin" {
					o.Services[i].Spec.ExternalIPs = []string{"203.0.113.7"}
				}
			}
		}, want: "externalIPs [203.0.113.7]"},
		"an Ingress to the admin Service": {edit: func(t *testing.T, o *kind.Objects) {
			decodeExtra(t, o, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: admin}
spec:
  rules:
    - host: admin.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: kratos-admin, port: {number: 80}}}}
`)
		}, want: "Ingress admin routes to Service kratos-admin"},
		"an HTTPRoute to the admin Service": {edit: func(t *testing.T, o *kind.Objects) {
			decodeExtra(t, o, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: admin}
spec:
  parentRefs: [{name: public-gateway}]
  rules:
    - backendRefs: [{name: kratos-admin, port: 80}]
`)
		}, want: "HTTPRoute admin routes to Service kratos-admin"},
		"an Ingress to the public Service only": {edit: func(t *testing.T, o *kind.Objects) {
			decodeExtra(t, o, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: public}
spec:
  defaultBackend: {service: {name: kratos-public, port: {number: 80}}}
`)
		}},
		"hostPort on the admin port": {edit: func(t *testing.T, o *kind.Objects) {
			serve(t, o).Ports[1].HostPort = 4434
		}, want: "hostPort 4434"},
		"serve on the node's network": {edit: func(t *testing.T, o *kind.Objects) {
			o.Deployments[0].Spec.Template.Spec.HostNetwork = true
		}, want: "runs on the node's network"},
		"serve.admin.port moved, container port unnamed": {values: map[string]any{"kratos": map[string]any{"config": map[string]any{"serve": map[string]any{"admin": map[string]any{"port": 9000}}}}},
			edit: func(t *testing.T, o *kind.Objects) {
				c := serve(t, o)
				c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: 9000})
				for i := range o.Services {
					if o.Services[i].Name == "kratos-public" {
						o.Services[i].Spec.Type = corev1.ServiceTypeNodePort
						o.Services[i].Spec.Ports = append(o.Services[i].Spec.Ports, corev1.ServicePort{Name: "ops", Port: 9000})
					}
				}
			}, want: "Service kratos-public (type NodePort) sends port 9000 to serve's admin port 9000"},
	}
	for name, c := range cases {
		o := renderTestChart(t, c.values)
		if c.edit != nil {
			c.edit(t, o)
		}
		r := adminNotExposed(o, kratosContainers(o))
		switch {
		case c.want == "" && r.Status != reports.Pass:
			t.Errorf("%s: %s %s, want PASS", name, r.Status, r.Detail)
		case c.want != "" && (r.Status != reports.Fail || !strings.Contains(r.Detail, c.want)):
			t.Errorf("%s: %s %q, want FAIL naming %q", name, r.Status, r.Detail, c.want)
		}
	}
}

func serve(t *testing.T, o *kind.Objects) *corev1.Container {
	t.Helper()
	for _, k := range byRole(kratosContainers(o), roleServe) {
		return k.c
	}
	t.Fatal("no serve container")
	return nil
}
