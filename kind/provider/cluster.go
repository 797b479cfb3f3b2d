package provider

import (
	"sigs.k8s.io/yaml"
)

// clusterConfig is kind's cluster config: one node from the offline node
// image, the node image's bridge CNI instead of kindnetd (not on the module
// proxy), and kubelet allowed on this machine's cgroup v1.
func clusterConfig(nodeImage string) ([]byte, error) {
	return yaml.Marshal(map[string]any{
		"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4",
		"networking": map[string]any{"disableDefaultCNI": true, "ipFamily": "ipv4"},
		"nodes":      []map[string]any{{"role": "control-plane", "image": nodeImage}},
		"kubeadmConfigPatches": []string{
			"kind: KubeletConfiguration\nfailCgroupV1: false\n",
			"kind: KubeProxyConfiguration\nconntrack:\n  maxPerCore: 0\n",
		},
	})
}
