package kind

import (
	"strings"
	"testing"
)

func TestDecodeIsStrict(t *testing.T) {
	_, err := Decode([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  typo: NodePort\n"))
	if err == nil || !strings.Contains(err.Error(), "typo") {
		t.Errorf("an unknown field must be an error, got %v", err)
	}
	if _, err := Decode([]byte("apiVersion: v9\nkind: Gizmo\n")); err == nil {
		t.Error("an unknown kind must be an error")
	}
}

// kind renders Kratos' config like every provider, so -kc.break reaches it.
func TestRenderAppliesTheBreakage(t *testing.T) {
	r, err := Render(RenderInput{KratosImage: "k:1", PostgresImage: "p:1", RedisImage: "r:1", MailpitImage: "m:1", PublicHostPort: 30443, Break: "noop-cipher"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.KratosConfig), "algorithm: noop") {
		t.Error("the breakage noop-cipher is not in kind's rendered config")
	}
}
