package kratosflow

import (
	"encoding/base32"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 rows, cut to six digits.
func TestTOTPCodeMatchesRFC6238(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		got, err := TOTPCode(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("TOTPCode(t=%d) = %q, %v; want %q", unix, got, err, want)
		}
	}
	if _, err := TOTPCode("not base32!", time.Now()); err == nil {
		t.Error("a secret that is not base32 must be refused")
	}
}
