package kratosflow

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	ory "github.com/ory/kratos-client-go"
)

// ProbeHash creates a throwaway identity with a password through the admin
// API, reads the hash Kratos stored, and deletes the identity. It tells what
// a deployment really hashes with, and with which parameters.
func ProbeHash(ctx context.Context, admin *ory.APIClient, schemaID string, traits map[string]any, password string) (string, error) {
	body := ory.CreateIdentityBody{SchemaId: schemaID, Traits: traits,
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{Password: &password}}}}
	id, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	if err != nil {
		return "", fmt.Errorf("create probe identity: %w (%s)", err, ErrorBody(err))
	}
	defer admin.IdentityAPI.DeleteIdentity(context.WithoutCancel(ctx), id.Id).Execute()
	got, _, err := admin.IdentityAPI.GetIdentity(ctx, id.Id).IncludeCredential([]string{"password"}).Execute()
	if err != nil {
		return "", fmt.Errorf("read probe identity: %w", err)
	}
	hash, _ := got.GetCredentials()["password"].Config["hashed_password"].(string)
	if hash == "" {
		return "", fmt.Errorf("the probe identity's password credential shows no hashed_password (include_credential=password)")
	}
	return hash, nil
}

// ParseHash names the algorithm of a stored password hash and its cost
// (bcrypt's log2 rounds, argon2's memory in KiB); unknown gives "unknown", 0.
func ParseHash(hash string) (string, int) {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		cost, _ := strconv.Atoi(strings.SplitN(hash[4:], "$", 2)[0])
		return "bcrypt", cost
	case strings.HasPrefix(hash, "$argon2id$"):
		var mem int
		if i := strings.Index(hash, "m="); i >= 0 {
			fmt.Sscanf(hash[i:], "m=%d", &mem)
		}
		return "argon2id", mem
	}
	return "unknown", 0
}
