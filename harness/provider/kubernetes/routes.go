package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"kratos-conformance/kind"
)

// gatewayVersions are the Gateway API versions whose routes are read: v1
// (HTTPRoute, GRPCRoute) and v1alpha2 (TCPRoute, TLSRoute, UDPRoute).
var gatewayVersions = []string{"gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"}

// routes lists the Gateway API routes in ns, where their CRDs exist: a
// route to the admin Service exposes it as an Ingress would (KM-ADMIN-001).
func (s *Stack) routes(ctx context.Context, ns string) ([]kind.Route, error) {
	dyn, err := dynamic.NewForConfig(s.rest)
	if err != nil {
		return nil, err
	}
	var out []kind.Route
	seen := map[string]bool{} // a kind served in two versions is read once
	for _, gv := range gatewayVersions {
		list, err := s.cs.Discovery().ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			continue // the CRDs are not installed
		}
		if err != nil {
			return nil, fmt.Errorf("discover %s: %w", gv, err)
		}
		version, _ := schema.ParseGroupVersion(gv)
		for _, r := range list.APIResources {
			if !strings.HasSuffix(r.Kind, "Route") || strings.Contains(r.Name, "/") || seen[r.Kind] {
				continue
			}
			seen[r.Kind] = true
			items, err := dyn.Resource(version.WithResource(r.Name)).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, fmt.Errorf("list %s in namespace %s: %w", r.Name, ns, err)
			}
			for _, item := range items.Items {
				b, err := json.Marshal(item.Object)
				if err != nil {
					return nil, err
				}
				route, err := kind.DecodeRoute(b)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", r.Kind, item.GetName(), err)
				}
				out = append(out, route)
			}
		}
	}
	return out, nil
}
