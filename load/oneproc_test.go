package load

import (
	"runtime"
	"testing"
)

// Side-by-side steps overlap: the setting comes back only when the last
// attack ends, and a release called twice counts once.
func TestOnOneProcessorRestoresAfterTheLastHolder(t *testing.T) {
	was := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(was)
	first, second := onOneProcessor(), onOneProcessor()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("held by two attacks: GOMAXPROCS %d, want 1", n)
	}
	first()
	first()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("one attack still running: GOMAXPROCS %d, want 1", n)
	}
	second()
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("no attack running: GOMAXPROCS %d, want 3 back", n)
	}
}
