package load

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hasher is a password hash algorithm with the parameters one deployment
// stores, read from a hash it made: seeded identities then cost a login
// exactly what a registered user's does (no rehash on first login, never cheaper).
type Hasher struct {
	Name string // bcrypt or argon2id
	// bcrypt
	Cost int
	// argon2id
	Memory, Time    uint32
	Threads         uint8
	SaltLen, KeyLen int
}

// HasherOf reads the algorithm and parameters of a stored hash.
func HasherOf(sample string) (Hasher, error) {
	if cost, err := bcrypt.Cost([]byte(sample)); err == nil {
		return Hasher{Name: "bcrypt", Cost: cost}, nil
	}
	var h Hasher
	parts := strings.Split(sample, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, fmt.Errorf("the deployment's password hash %.12q... is neither bcrypt nor argon2id; the load stage can seed only those", sample)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.Memory, &h.Time, &h.Threads); err != nil {
		return h, fmt.Errorf("argon2id parameters %q: %w", parts[3], err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return h, err
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return h, err
	}
	h.Name, h.SaltLen, h.KeyLen = "argon2id", len(salt), len(key)
	return h, nil
}

// Hash makes a stored hash of password with these parameters.
func (h Hasher) Hash(password string) (string, error) {
	if h.Name == "bcrypt" {
		b, err := bcrypt.GenerateFromPassword([]byte(password), h.Cost)
		return string(b), err
	}
	salt := make([]byte, h.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, uint32(h.KeyLen))
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Compare checks password against a hash made by Hash, as a login does.
func (h Hasher) Compare(hash, password string) bool {
	if h.Name == "bcrypt" {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	}
	parts := strings.Split(hash, "$")
	salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
	want, _ := base64.RawStdEncoding.DecodeString(parts[5])
	got := argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// String names the algorithm and its cost, for reports.
func (h Hasher) String() string {
	if h.Name == "bcrypt" {
		return fmt.Sprintf("bcrypt cost %d", h.Cost)
	}
	return fmt.Sprintf("argon2id m=%d KiB t=%d p=%d", h.Memory, h.Time, h.Threads)
}
