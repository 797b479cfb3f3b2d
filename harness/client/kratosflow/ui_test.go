package kratosflow

import "testing"

func TestParseHash(t *testing.T) {
	for hash, want := range map[string]struct {
		name string
		cost int
	}{
		"$2a$12$/dkPt64Ngazx/acXfp8tT0wCRYGNThCm9rZNyrt1a2Ygtjksa": {"bcrypt", 12},
		"$2b$10$abc": {"bcrypt", 10},
		"$argon2id$v=19$m=131072,t=1,p=2$c2FsdA$aGFzaA": {"argon2id", 131072},
		"plain": {"unknown", 0},
	} {
		name, cost := ParseHash(hash)
		if name != want.name || cost != want.cost {
			t.Errorf("ParseHash(%q) = %s/%d, want %s/%d", hash, name, cost, want.name, want.cost)
		}
	}
}
