package provider

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"

	"kratos-conformance/harness"
	k8sprovider "kratos-conformance/harness/provider/kubernetes"
)

var _ harness.PodCPU = (*Stack)(nil)

// PodCPUSeconds reads every pod in the namespace: the deployment's and the
// run's generator pods.
func (s *Stack) PodCPUSeconds(ctx context.Context) (map[string]harness.CPUCounter, float64, error) {
	if s.reader != nil {
		return s.reader.PodCPUSeconds(ctx)
	}
	return k8sprovider.PodCPUSeconds(ctx, s.cs, namespace, labels.Everything())
}
