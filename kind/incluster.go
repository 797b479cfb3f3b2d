package kind

import (
	"embed"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

//go:embed incluster/*.yaml
var inClusterFiles embed.FS

// InCluster are the objects that run the suite inside a cluster
// (incluster/): the ServiceAccount it runs as with its Role, and the Job,
// or the helm-test Pod, that runs it. All in namespace identity as shipped.
type InCluster struct {
	ServiceAccount corev1.ServiceAccount
	Role           rbacv1.Role
	RoleBinding    rbacv1.RoleBinding
	Job            batchv1.Job
	TestPod        corev1.Pod
}

// InClusterObjects decodes incluster/ strictly.
func InClusterObjects() (*InCluster, error) {
	ic := &InCluster{}
	for _, name := range []string{"incluster/rbac.yaml", "incluster/job.yaml", "incluster/test-pod.yaml"} {
		b, err := inClusterFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		for i, doc := range splitDocs(b) {
			var head struct{ Kind string }
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return nil, fmt.Errorf("%s document %d: %w", name, i, err)
			}
			var into any
			switch head.Kind {
			case "ServiceAccount":
				into = &ic.ServiceAccount
			case "Role":
				into = &ic.Role
			case "RoleBinding":
				into = &ic.RoleBinding
			case "Job":
				into = &ic.Job
			case "Pod":
				into = &ic.TestPod
			default:
				return nil, fmt.Errorf("%s document %d: unexpected kind %q", name, i, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, into); err != nil {
				return nil, fmt.Errorf("%s document %d (%s): %w", name, i, head.Kind, err)
			}
		}
	}
	return ic, nil
}
