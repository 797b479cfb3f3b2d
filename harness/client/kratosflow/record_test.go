package kratosflow

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The recorder keeps the last exchanges with secrets masked, and the caller
// still reads every byte of the body.
func TestRecorderKeepsTheLastExchangesMasked(t *testing.T) {
	long := strings.Repeat("x", 3*recordedBody)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "https://auth.example.test" {
			w.WriteHeader(http.StatusTeapot) // WithHeader did not reach the transport
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"session_token":"s3cret","error":{"id":"browser_location_change_required"},"pad":"`+long+`"}`)
	}))
	defer srv.Close()
	rec := NewRecorder(2)
	hc := &http.Client{Transport: http.DefaultTransport}
	WithRecorder(rec)(hc)
	WithHeader("Origin", "https://auth.example.test")(hc)
	for i := 0; i < 3; i++ {
		resp, err := hc.Post(srv.URL+"/self-service/login?flow=1", "application/json", strings.NewReader(`{"password":"hunter2","identifier":"a@b"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasSuffix(string(body), long+`"}`) {
			t.Fatalf("the caller lost part of the body: %d bytes", len(body))
		}
	}
	dump := rec.String()
	if n := strings.Count(dump, "POST "); n != 2 {
		t.Errorf("kept %d exchanges, want the last 2:\n%s", n, dump)
	}
	for _, secret := range []string{"hunter2", "s3cret"} {
		if strings.Contains(dump, secret) {
			t.Errorf("the dump shows %q:\n%s", secret, dump)
		}
	}
	if !strings.Contains(dump, "-> 400") || !strings.Contains(dump, "browser_location_change_required") || !strings.Contains(dump, `"identifier":"a@b"`) {
		t.Errorf("the dump lacks the status, Kratos' error id or the request:\n%s", dump)
	}
}
