package conformance

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"kratos-conformance/harness/checks"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/reports"
)

// The security specs are one container, so their full names and the other
// containers' order stay as they were; the specs live by area in
// security_*.go (Ginkgo runs a container's specs by file, then line).
var _ = Describe("Security rules an auditor checks first (OWASP ASVS 4.0.3)", Label(labelSecurity), func() {
	sessionSpecs()
	cookieSpecs()
	inputSpecs()
	mfaSpecs()
	redirectSpecs()
	tlsSpecs()
})

// tokenLoginWorkers is how many API logins run at once to collect the token
// sample; the attempt counts are the (ASVS 2.2.1 names no number).
const (
	tokenLoginWorkers     = 8
	totpWrongAttempts     = 10
	wrongPasswordAttempts = 50
	// recoveryCodeTries is the submits Kratos allows a recovery flow
	// (persistence/sql/persister_code.go: more than 5 are refused).
	recoveryCodeTries = 5
)

// importWithCheapHash creates p through the admin API with a password hash of
// the deployment's algorithm at its cheapest parameters: Kratos compares with
// the hash's own parameters and keeps a hash its hasher understands, so each
// login costs milliseconds, not a bcrypt-12 compare.
func importWithCheapHash(ctx context.Context, p person) {
	GinkgoHelper()
	var hash string
	switch algorithm, _ := kratosflow.ParseHash(suite.SampleHash); algorithm {
	case "argon2id":
		hash = argon2idHash(p.Password, 64, 1, 1)
	default:
		b, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.MinCost)
		Expect(err).NotTo(HaveOccurred())
		hash = string(b)
	}
	admin := newAdmin()
	body := ory.CreateIdentityBody{SchemaId: suite.Schema.ID, Traits: p.Traits,
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{HashedPassword: &hash}}}}
	id, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	Expect(err).NotTo(HaveOccurred(), bodyOf(err))
	DeferCleanup(func(ctx SpecContext) { _, _ = admin.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute() })
}

// enabledOrUnknown is true unless the deployment's config switches path off.
func enabledOrUnknown(path string) bool {
	enabled, known := liveConfigEnabled(path)
	return enabled || !known
}

func liveConfigEnabled(path string) (enabled, known bool) {
	if c := liveConfig(); c != nil {
		return c.Enabled(path)
	}
	return false, false
}

// addLogRequirement judges SEC-LOG-001 over the component logs in the run
// folder: the report comes last, once every provider wrote or collected
// them. The in-cluster run's own folder is its own run's to judge.
func addLogRequirement(s *reports.Summary) {
	const id = "SEC-LOG-001"
	if suite.Run == nil {
		return
	}
	var files int
	var leaks []string
	cookie := sessionCookieName()
	_ = filepath.WalkDir(suite.Run.Dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && d.Name() == "in-cluster":
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(d.Name(), ".log") || d.Name() == "in-cluster.log":
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		files++
		rel, _ := filepath.Rel(suite.Run.Dir, path)
		for _, f := range checks.SecretsIn(b, cookie) {
			leaks = append(leaks, rel+" "+f)
		}
		return nil
	})
	switch {
	case files == 0:
		s.AddRequirement(id, reports.NA, "component logs", "no component log in the run folder (a deployment by URL: its logs are the operator's to check)")
	case len(leaks) > 0:
		if len(leaks) > 5 {
			leaks = append(leaks[:5], fmt.Sprintf("and %d more", len(leaks)-5))
		}
		s.AddRequirement(id, reports.Fail, "component logs", "secrets in the logs: "+strings.Join(leaks, "; "))
	default:
		s.AddRequirement(id, reports.Pass, fmt.Sprintf("component logs (%d files)", files), "")
	}
}

// argon2idHash is password hashed with argon2id (memory in KiB) in the PHC
// form Kratos imports.
func argon2idHash(password string, memory, time uint32, threads uint8) string {
	salt := []byte(rand.Text())[:16]
	key := argon2.IDKey([]byte(password), salt, time, memory, threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, time, threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
