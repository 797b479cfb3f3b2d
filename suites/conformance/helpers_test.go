package conformance

import (
	"context"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checklist"
	"kratos-conformance/harness/kratosflow"
	"kratos-conformance/harness/mailpit"
)

// Labels: the fixed set every spec draws from.
const (
	labelGuide        = "guide"        // a step of the deployment guide's walk
	labelBrowser      = "browser"      // browser flows with cookies and CSRF
	labelAPI          = "api"          // API (native) flows with session tokens
	labelAdmin        = "admin"        // the admin API
	labelMail         = "mail"         // needs the courier and Mailpit
	labelRegistration = "registration" // areas of Kratos
	labelVerification = "verification"
	labelLogin        = "login"
	labelLogout       = "logout"
	labelIdentities   = "identities"
)

// fillHasher records what the deployment really hashes passwords with, when
// the provider could not say (external deployments).
func fillHasher(ctx context.Context) {
	if env.Hasher != "" {
		return
	}
	name, cost, err := kratosflow.ProbeHasher(ctx, newAdmin(), fixtures.NewEmail("hasher-probe"), fixtures.NewPassword())
	Expect(err).NotTo(HaveOccurred())
	env.Hasher, env.HasherCost = name, cost
}

// newBrowser is a fresh browser with an empty cookie jar; every spec makes its own.
func newBrowser() *kratosflow.Agent {
	GinkgoHelper()
	a, err := kratosflow.NewBrowser(ep, iv.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	return a
}

// newNative is an app or server client that carries X-Session-Token, no cookies.
func newNative() *kratosflow.Agent {
	GinkgoHelper()
	a, err := kratosflow.NewNative(ep, iv.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	return a
}

func newAdmin() *ory.APIClient {
	GinkgoHelper()
	c, err := kratosflow.NewAdmin(ep, iv.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	return c
}

func newMailpit() *mailpit.Client { return mailpit.New(ep.MailpitAPI, iv.HTTPRequest) }

// user is an identity a spec made for itself.
type user struct {
	Email, Password string
	Agent           *kratosflow.Agent
	Registration    kratosflow.Registered
}

// registerBrowserUser signs a fresh address up through the browser flow.
func registerBrowserUser(ctx context.Context, purpose string) user {
	GinkgoHelper()
	u := user{Email: fixtures.NewEmail(purpose), Password: fixtures.NewPassword(), Agent: newBrowser()}
	reg, err := u.Agent.RegisterBrowser(ctx, u.Email, u.Password)
	Expect(err).NotTo(HaveOccurred())
	u.Registration = reg
	return u
}

// cookieNamed finds a Set-Cookie of resp by name.
func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// bodyOf is a failure message's context: the body Kratos sent with an error.
func bodyOf(err error) string { return string(kratosflow.ErrorBody(err)) }

// sessionCookie is the ory_kratos_session value an agent's jar would send to Kratos.
func sessionCookie(a *kratosflow.Agent) string {
	for _, c := range a.Jar.Cookies(ep.KratosPublic) {
		if c.Name == "ory_kratos_session" {
			return c.Value
		}
	}
	return ""
}

// req labels a spec with the requirement it checks (docs/requirements.md);
// the summary's verdict matrix is built from these labels.
func req(id string) string { return reqPrefix + id }

const reqPrefix = "req:"

// skipUnlessEnabled makes a requirement N/A, not failed, when the deployment's
// own config switches the feature off (e.g. recovery disabled on purpose).
func skipUnlessEnabled(path, feature string) {
	src, ok := stack.(harness.ConfigSource)
	if !ok || len(src.KratosConfig()) == 0 {
		return // unknown config: the spec runs and shows what the deployment does
	}
	cfg, err := checklist.ParseConfig(src.KratosConfig())
	if err != nil {
		return
	}
	if enabled, known := cfg.Enabled(path); known && !enabled {
		Skip("N/A: " + feature + " is disabled in the deployment's config (" + path + ")")
	}
}
