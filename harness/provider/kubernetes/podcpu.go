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
)

// kubeletSummary is the part of the kubelet's /stats/summary a load step
// reads: cumulative CPU, so two readings give a window's exact use (a
// metrics-server figure is an average over its own window).
type kubeletSummary struct {
	Node struct {
		CPU struct {
			Time                 time.Time `json:"time"` // when the kubelet read the counters
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
				UsageCoreNanoSeconds uint64 `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
		} `json:"containers"`
	} `json:"pods"`
}

// generatorComponent groups the run's own generator pods (-kc.load-generators).
const generatorComponent = "generator-pods"

// PodCPUSeconds reads, through the API server's proxy to each kubelet
// (get on nodes/proxy), the CPU seconds used so far by every container of
// the namespace's pods matching sel, summed per component: the container's
// name, the serve pods' courier as "kratos-courier". "machine" is the busy
// CPU of the nodes they run on, whose cores are the second result. The
// kubelet refreshes its counters every 10-15 s, not per request: at is when
// it last read them (the latest node's), which a window's shares must use.
func PodCPUSeconds(ctx context.Context, cs kubernetes.Interface, namespace string, sel labels.Selector) (secs map[string]float64, cores float64, at time.Time, err error) {
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("list pods in %s: %w", namespace, err)
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
	secs = map[string]float64{}
	for _, node := range nodes {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return nil, 0, time.Time{}, fmt.Errorf("get node %s: %w", node, err)
		}
		cores += n.Status.Capacity.Cpu().AsApproximateFloat64()
		raw, err := cs.CoreV1().RESTClient().Get().Resource("nodes").Name(node).SubResource("proxy").Suffix("stats/summary").DoRaw(ctx)
		if err != nil {
			return nil, 0, time.Time{}, fmt.Errorf("read node %s's kubelet summary (needs get on nodes/proxy): %w", node, err)
		}
		var sum kubeletSummary
		if err := json.Unmarshal(raw, &sum); err != nil {
			return nil, 0, time.Time{}, fmt.Errorf("node %s's kubelet summary: %w", node, err)
		}
		secs["machine"] += float64(sum.Node.CPU.UsageCoreNanoSeconds) / 1e9
		if sum.Node.CPU.Time.After(at) {
			at = sum.Node.CPU.Time
		}
		for _, p := range sum.Pods {
			app, ok := ours[p.PodRef.Name]
			if !ok || p.PodRef.Namespace != namespace {
				continue
			}
			for _, c := range p.Containers {
				secs[podComponent(app, c.Name)] += float64(c.CPU.UsageCoreNanoSeconds) / 1e9
			}
		}
	}
	if len(nodes) == 0 {
		return nil, 0, time.Time{}, fmt.Errorf("no scheduled pod in %s matches %q", namespace, sel)
	}
	return secs, cores, at, nil
}

// podComponent names a container's CPU the way the other providers name
// their processes.
func podComponent(app, container string) string {
	switch {
	case app == "kratos-conformance-load":
		return generatorComponent
	case strings.Contains(container, "courier"):
		return "kratos-courier"
	}
	return container
}

var _ harness.PodCPU = (*Stack)(nil)

// PodCPUSeconds reads the release's pods (-kc.k8s-release or -kc.k8s-selector).
func (s *Stack) PodCPUSeconds(ctx context.Context) (map[string]float64, float64, time.Time, error) {
	sel, err := labels.Parse(s.opts.selector())
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	return PodCPUSeconds(ctx, s.cs, s.opts.Namespace, sel)
}
