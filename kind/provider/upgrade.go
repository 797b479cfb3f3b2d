package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kratos-conformance/harness"
	"kratos-conformance/internal/build"
)

// An upgrade on kind is what Ory's chart does on `helm upgrade`: the next
// image's migrations as a Job of their own (the chart's pre-upgrade hook;
// in the guide's layout a Job made of its migrate initContainer) while the
// old pods serve, then a rolling update of serve and the courier.
var _ harness.Upgrader = (*Stack)(nil)

// ValidateUpgradeFrom: -kc.upgrade-from names Kratos images in the private
// engine, oldest first; a read-back deployment is not one to change.
func (p *provider) ValidateUpgradeFrom(from string) error {
	if p.o.Discover {
		return errors.New("-kc.upgrade-from changes the deployment that -kc.kind-discover (or -kc.kind-in-cluster) reads back untouched: drop one")
	}
	for _, image := range harness.UpgradePath(from) {
		if st, err := os.Stat(image); err == nil && !st.IsDir() {
			return fmt.Errorf("-kc.upgrade-from=%q: the kind provider starts on older Kratos images in its private engine, not a file", image)
		}
	}
	return nil
}

// upgradePath reads the version of each image on the path and of the tested
// one, and loads the path's images into the node (the tested one is baked in).
func (s *Stack) upgradePath(ctx context.Context) error {
	var err error
	if s.up.TestedVersion, err = imageVersion(ctx, s.opts.images.kratos); err != nil {
		return err
	}
	for _, image := range s.up.Images {
		v, err := imageVersion(ctx, image)
		if err != nil {
			return fmt.Errorf("-kc.upgrade-from: %w", err)
		}
		s.up.Versions = append(s.up.Versions, v)
		if image != s.opts.images.kratos {
			if err := s.loadImage(ctx, image); err != nil {
				return fmt.Errorf("-kc.upgrade-from: %w", err)
			}
		}
	}
	return nil
}

// imageVersion runs the image with `version` in the private engine (DOCKER_HOST).
func imageVersion(ctx context.Context, image string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", image, "version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("docker run %s version: %w: %s (the image must be in the kind provider's private engine)", image, err, strings.TrimSpace(string(out)))
	}
	return build.ParseVersion(string(out)), nil
}

// UpgradingFrom is the running older image's version until the last Roll.
func (s *Stack) UpgradingFrom() string { return s.up.From() }

// UpgradingTo is the version the next hop moves to.
func (s *Stack) UpgradingTo() string {
	_, version := s.up.Next()
	return version
}

// Migrate runs the next image's migrations as a Job and waits for it.
func (s *Stack) Migrate(ctx context.Context) error {
	image, version := s.up.Next()
	name := fmt.Sprintf("kratos-upgrade-migrate-%d", s.hops+1)
	var spec corev1.PodSpec
	if s.chart() {
		if len(s.rendered.Objects.Jobs) == 0 {
			return errors.New("the chart layout has no migration Job to copy")
		}
		spec = *s.rendered.Objects.Jobs[0].Spec.Template.Spec.DeepCopy()
	} else {
		d, err := s.renderedDeployment(serveApp)
		if err != nil {
			return err
		}
		spec = *d.Spec.Template.Spec.DeepCopy()
		if len(spec.InitContainers) == 0 {
			return errors.New("the guide's kratos Deployment has no migrate initContainer to run as a Job")
		}
		spec.Containers, spec.InitContainers = spec.InitContainers[:1], nil
		spec.RestartPolicy = corev1.RestartPolicyNever
	}
	c := &spec.Containers[0]
	c.Image, c.Args = image, migrateArgs(c.Args, version)
	backoff := int32(0)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: batchv1.JobSpec{BackoffLimit: &backoff, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{strings.TrimSuffix(appLabel, "="): name}}, Spec: spec}}}
	if _, err := s.cs.BatchV1().Jobs(namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Job %s/%s: %w", namespace, name, err)
	}
	return s.waitJob(ctx, name, name)
}

// migrateArgs puts the version's migrate command (`migrate sql up` from v25)
// in place of the one in args, keeping the flags around it (the config path).
func migrateArgs(args []string, version string) []string {
	i := slices.Index(args, "migrate")
	if i < 0 {
		return args
	}
	j := i
	for j < len(args) && slices.Contains([]string{"migrate", "sql", "up", "-e", "--yes"}, args[j]) {
		j++
	}
	return slices.Concat(args[:i], harness.MigrateArgs(version), args[j:])
}

// Roll updates serve's Deployment, then the courier (the chart's StatefulSet;
// in the guide's layout a container of serve's pod, put back if stopped), to
// the next image, and waits for each rollout and readiness.
func (s *Stack) Roll(ctx context.Context) error {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	image, version := s.up.Next()
	old := s.up.Current()
	d, err := s.cs.AppsV1().Deployments(namespace).Get(ctx, serveApp, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !s.chart() && !hasCourier(d) {
		if err := s.withCourier(d); err != nil {
			return err
		}
	}
	stamp := fmt.Sprintf("hop %d: %s", s.hops+1, image)
	retag(&d.Spec.Template, old, image, stamp)
	if _, err := s.cs.AppsV1().Deployments(namespace).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("roll deployment %s/%s to %s: %w", namespace, serveApp, image, err)
	}
	if err := s.started(ctx, serveApp, !s.chart()); err != nil {
		return fmt.Errorf("serve on Kratos %s: %w", version, err)
	}
	if err := s.waitEndpoints(ctx); err != nil {
		return err
	}
	if s.chart() {
		st, err := s.cs.AppsV1().StatefulSets(namespace).Get(ctx, chartCourier, metav1.GetOptions{})
		if err != nil {
			return err
		}
		stopped := *st.Spec.Replicas == 0
		retag(&st.Spec.Template, old, image, stamp)
		if _, err := s.cs.AppsV1().StatefulSets(namespace).Update(ctx, st, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("roll statefulset %s/%s to %s: %w", namespace, chartCourier, image, err)
		}
		if stopped {
			err = s.setChartCourier(ctx, true)
		} else {
			err = s.chartCourierStarted(ctx)
		}
		if err != nil {
			return fmt.Errorf("the courier on Kratos %s: %w", version, err)
		}
	}
	s.retagRendered(old, image, stamp)
	s.up.Advance()
	s.hops++
	return nil
}

// retag moves every container of t on image old to image new and stamps the
// template, so the workload rolls even when both name one image (CI's
// upgrade of an image to itself).
func retag(t *corev1.PodTemplateSpec, old, new, stamp string) {
	for _, cs := range []*[]corev1.Container{&t.Spec.InitContainers, &t.Spec.Containers} {
		for i := range *cs {
			if (*cs)[i].Image == old {
				(*cs)[i].Image = new
			}
		}
	}
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations["kratos-conformance/upgrade"] = stamp
}

// retagRendered keeps what the suite rendered in step with the cluster, for
// later edits made from it (the guide's courier put back into serve's pod).
func (s *Stack) retagRendered(old, new, stamp string) {
	o := s.rendered.Objects
	for i := range o.Deployments {
		retag(&o.Deployments[i].Spec.Template, old, new, stamp)
	}
	for i := range o.StatefulSets {
		retag(&o.StatefulSets[i].Spec.Template, old, new, stamp)
	}
}

// renderedDeployment is the Deployment name as the suite rendered it.
func (s *Stack) renderedDeployment(name string) (*appsv1.Deployment, error) {
	for i := range s.rendered.Objects.Deployments {
		if d := &s.rendered.Objects.Deployments[i]; d.Name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("the rendered manifests have no Deployment %s", name)
}
