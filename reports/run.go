// Package reports turns a run's results into files: summary.json for machines,
// summary.md for people (fit for a CI job summary), next to the JUnit file and
// the component logs in the run's own folder.
package reports

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Run is one run's output folder, reports/out/<run-id>/, with reports/out/latest
// pointing at the newest.
type Run struct {
	ID        string
	Dir       string
	StartedAt time.Time
}

// NewRun creates a fresh folder under parent and points parent/latest at it.
func NewRun(parent string) (*Run, error) {
	now := time.Now().UTC()
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	// Time first so folders sort by age; the suffix keeps two runs started in
	// the same second apart.
	id := now.Format("20060102-150405") + "-" + hex.EncodeToString(suffix)
	dir := filepath.Join(parent, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// Replace the link atomically, so a concurrent reader never finds none.
	latest := filepath.Join(parent, "latest")
	tmp := fmt.Sprintf("%s.%s", latest, id)
	if err := os.Symlink(id, tmp); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, latest); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return &Run{ID: id, Dir: abs, StartedAt: now}, nil
}

// RunAt uses exactly dir as the run's folder (created if missing), with no
// latest link: a certification that runs several stacks keeps each in its
// own sub-folder of one run (cmd/kccertify).
func RunAt(dir string) (*Run, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	return &Run{ID: filepath.Base(filepath.Dir(abs)) + "/" + filepath.Base(abs), Dir: abs, StartedAt: time.Now().UTC()}, nil
}
