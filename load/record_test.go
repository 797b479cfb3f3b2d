package load

import (
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A step's raw results read back with vegeta's own decoder, every one, with
// no body or header kept (they carry session tokens).
func TestStepRecordKeepsRawResultsWithoutSecrets(t *testing.T) {
	dir := t.TempDir()
	rec, err := newStepRecord(dir, "whoami-token-00050.0", "whoami-token at 50/s")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		rec.Add(&vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: time.Now(), Latency: time.Millisecond,
			Body: []byte(`{"session_token":"secret"}`), Headers: map[string][]string{"Set-Cookie": {"secret"}}})
	}
	plotFile, rawFile, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, plotFile)); err != nil {
		t.Errorf("no plot: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, rawFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := vegeta.NewDecoder(gz)
	var n int
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if r.Code != 200 || len(r.Body) > 0 || len(r.Headers) > 0 {
			t.Errorf("result %d read back as %+v, want code 200 and no body or headers", n, r)
		}
		n++
	}
	if n != 3 {
		t.Errorf("read back %d results, want 3", n)
	}
}
