package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Exit codes of a certification (the suite's binary and make certify), so a
// pipeline can tell a deployment that failed from a suite that never judged it.
const (
	ExitVerdict   = 1 // FAIL, or PARTIAL without -kc.partial: the deployment was judged
	ExitCannotRun = 2 // bad flags or target file, unreachable target, missing prerequisite, a stack that never came up
)

// AppendStepSummary appends dir's summary.md to the file $GITHUB_STEP_SUMMARY
// names (GitHub Actions shows it on the job's page); nothing when it is unset.
func AppendStepSummary(dir string) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("$GITHUB_STEP_SUMMARY: %w", err)
	}
	_, err = f.Write(append(md, '\n'))
	return errors.Join(err, f.Close())
}
