package load

import "testing"

// A hash made like a deployment's sample has its parameters and verifies.
func TestHasherCopiesTheDeploymentsParameters(t *testing.T) {
	for _, sample := range []string{
		"$2a$04$abcdefghijklmnopqrstuu5RBmpqS2oZ1q9tNVh3ZnS1o6e6ozhU.",                                 // bcrypt cost 4
		"$argon2id$v=19$m=1024,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U", // argon2id, 16-byte salt, 32-byte key
	} {
		h, err := HasherOf(sample)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := h.Hash("Pw-secret-1!")
		if err != nil {
			t.Fatal(err)
		}
		again, _ := HasherOf(hash)
		if again != h || !h.Compare(hash, "Pw-secret-1!") || h.Compare(hash, "wrong") {
			t.Errorf("%s: made %s (%+v), want the same parameters and a working compare", h, hash, again)
		}
	}
	if _, err := HasherOf("$pbkdf2-sha256$..."); err == nil {
		t.Error("an algorithm the load stage cannot seed must be refused")
	}
}
