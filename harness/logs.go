package harness

import (
	"os"
	"strings"
)

// LastLines returns the last n lines of s, for error messages that quote a log.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TailFile returns the last n lines of the file at path, or a note why it cannot.
func TailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return LastLines(string(b), n)
}

// ReadFrom returns a log file's text from byte offset on ("" if unreadable):
// what a component wrote since a given moment, e.g. since its restart.
func ReadFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return ""
	}
	return string(b[offset:])
}
