package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"kratos-conformance/harness"
	"kratos-conformance/load"
)

// kubeletSummary is the part of the kubelet's /stats/summary a load step
// reads: cumulative CPU, so two readings give a window's exact use (a
// metrics-server figure is an average over its own window).
type kubeletSummary struct {
	Node struct {
		CPU struct {
			Time                 time.Time `json:"time"` // when the kubelet read the counter
			UsageCoreNanoSeconds uint64    `json:"usageCoreNanoSeconds"`
		} `json:"cpu"`
	} `json:"node"`
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		Containers []struct {
			Name string `json:"name"`
			CPU  struct {
				Time                 time.Time `json:"time"`
				UsageCoreNanoSeconds uint64    `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
		} `json:"containers"`
	} `json:"pods"`
}

// PodCPUSeconds reads, through the API server's proxy to each kubelet
// (get on nodes/proxy), the CPU counter of every container of the
// namespace's pods matching sel, named by component (the container's name,
// the serve pods' courier as "kratos-courier"), and of the nodes they run
// on ("machine"), whose cores are the second result.
func PodCPUSeconds(ctx context.Context, cs kubernetes.Interface, namespace string, sel labels.Selector) (map[string]harness.CPUCounter, float64, error) {
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, 0, fmt.Errorf("list pods in %s: %w", namespace, err)
	}
	ours := map[string]string{} // pod name → the app it belongs to
	var nodes []string
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" {
			continue
		}
		ours[p.Name] = p.Labels["app.kubernetes.io/name"]
		if !slices.Contains(nodes, p.Spec.NodeName) {
			nodes = append(nodes, p.Spec.NodeName)
		}
	}
	if len(nodes) == 0 {
		return nil, 0, fmt.Errorf("no scheduled pod in %s matches %q", namespace, sel)
	}
	counters := map[string]harness.CPUCounter{}
	var cores float64
	for _, node := range nodes {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return nil, 0, fmt.Errorf("get node %s (needs get on nodes): %w", node, err)
		}
		cores += n.Status.Capacity.Cpu().AsApproximateFloat64()
		raw, err := cs.CoreV1().RESTClient().Get().Resource("nodes").Name(node).SubResource("proxy").Suffix("stats/summary").DoRaw(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("read node %s's kubelet summary (needs get on nodes/proxy): %w", node, err)
		}
		var sum kubeletSummary
		if err := json.Unmarshal(raw, &sum); err != nil {
			return nil, 0, fmt.Errorf("node %s's kubelet summary: %w", node, err)
		}
		counters["node/"+node] = harness.CPUCounter{Component: "machine", Seconds: float64(sum.Node.CPU.UsageCoreNanoSeconds) / 1e9, At: sum.Node.CPU.Time}
		for _, p := range sum.Pods {
			app, ok := ours[p.PodRef.Name]
			if !ok || p.PodRef.Namespace != namespace {
				continue
			}
			for _, c := range p.Containers {
				counters[p.PodRef.Name+"/"+c.Name] = harness.CPUCounter{Component: podComponent(app, c.Name),
					Seconds: float64(c.CPU.UsageCoreNanoSeconds) / 1e9, At: c.CPU.Time}
			}
		}
	}
	return counters, cores, nil
}

// podComponent names a container's CPU the way the other providers name
// their processes.
func podComponent(app, container string) string {
	switch {
	case app == generatorApp:
		return load.GeneratorPods
	case strings.Contains(container, "courier"):
		return "kratos-courier"
	}
	return container
}

var _ harness.PodCPU = (*Stack)(nil)

// PodCPUSeconds reads the release's pods (-kc.k8s-release or -kc.k8s-selector).
func (s *Stack) PodCPUSeconds(ctx context.Context) (map[string]harness.CPUCounter, float64, error) {
	sel, err := labels.Parse(s.opts.selector())
	if err != nil {
		return nil, 0, err
	}
	return PodCPUSeconds(ctx, s.cs, s.opts.Namespace, sel)
}
