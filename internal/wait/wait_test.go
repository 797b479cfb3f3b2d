package wait

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A wait that runs out names what it waited for, its bound and the last
// error; one whose subject is gone ends at once.
func TestForNamesWhatItWaitedFor(t *testing.T) {
	err := For(context.Background(), Input{Name: "Kratos admin", Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond,
		Check: func(context.Context) error { return errors.New("connection refused") }})
	for _, want := range []string{"Kratos admin", "50ms", "connection refused", "-kc.intervals"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to name %q", err, want)
		}
	}
	start := time.Now()
	err = For(context.Background(), Input{Name: "serve", Timeout: time.Minute, Interval: 10 * time.Millisecond,
		Check: func(context.Context) error { return errors.New("not yet") }, Alive: func() error { return errors.New("serve exited") }})
	if err == nil || !strings.Contains(err.Error(), "serve exited") || time.Since(start) > time.Second {
		t.Errorf("a dead subject: got %v after %s, want its reason at once", err, time.Since(start))
	}
	if err := For(context.Background(), Input{Name: "x"}); err == nil {
		t.Error("a wait without a bound must be refused")
	}
}

// A certificate that fails verification ends the wait at once, naming the
// certificate: it will not fix itself within any timeout (issue 30 waited
// out 60 s, then called an expired certificate "could not run").
func TestCertificateFailureIsFinal(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	start := time.Now()
	err := For(context.Background(), Input{Name: "public", Timeout: time.Minute, Interval: 10 * time.Millisecond,
		Check: HTTPStatus(&http.Client{}, srv.URL, http.StatusOK)}) // trusts no test CA
	var cert *CertificateError
	if !errors.As(err, &cert) || time.Since(start) > 10*time.Second {
		t.Fatalf("want a CertificateError at once, got %v after %s", err, time.Since(start))
	}
	if cert.Subject == "" || cert.NotAfter.IsZero() {
		t.Errorf("the report needs the certificate's subject, names and dates: %+v", cert)
	}
}
