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
