package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// logLimit bounds one container's log: a chatty serve at debug level must
// not fill the run folder.
const logLimit = 20 << 20

// CollectLogs writes every container's log (initContainers too, and the
// previous run's where a container restarted) of the selected workloads'
// pods into dir/kubernetes, one file per pod and container.
func (s *Stack) CollectLogs(ctx context.Context, dir string) error {
	if s.objs == nil {
		return nil
	}
	out := filepath.Join(dir, "kubernetes")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	pods, err := s.podsOf(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range pods {
		for _, st := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			errs = append(errs, s.saveLog(ctx, p.Name, st.Name, false, filepath.Join(out, p.Name+"."+st.Name+".log")))
			if st.RestartCount > 0 {
				errs = append(errs, s.saveLog(ctx, p.Name, st.Name, true, filepath.Join(out, p.Name+"."+st.Name+".previous.log")))
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Stack) saveLog(ctx context.Context, pod, container string, previous bool, file string) error {
	limit := int64(logLimit)
	b, err := s.cs.CoreV1().Pods(s.opts.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous, LimitBytes: &limit}).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("logs of %s/%s: %w", pod, container, err)
	}
	return os.WriteFile(file, b, 0o644)
}
