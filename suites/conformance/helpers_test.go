package conformance

import (
	"context"
	"fmt"
	"net/http"
	"time"

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

// liveConfig is the deployment's Kratos config, or nil when the provider
// cannot show it (an external deployment given without -kc.kratos-config).
func liveConfig() *checklist.Config {
	src, ok := stack.(harness.ConfigSource)
	if !ok || len(src.KratosConfig()) == 0 {
		return nil
	}
	c, err := checklist.ParseConfig(src.KratosConfig())
	if err != nil {
		return nil
	}
	return c
}

// skipUnlessEnabled makes a requirement N/A, not failed, when the deployment's
// own config switches the feature off (e.g. recovery disabled on purpose).
// With the config unknown the spec runs and shows what the deployment does.
func skipUnlessEnabled(path, feature string) {
	if c := liveConfig(); c != nil {
		if enabled, known := c.Enabled(path); known && !enabled {
			Skip("N/A: " + feature + " is disabled in the deployment's config (" + path + ")")
		}
	}
}

// skipUnlessWaitable makes an expiry requirement N/A when the lifespan is
// longer than a spec may wait (-kc.intervals=lifespan-wait=...): the guide's
// 1h lifespans are checked by the short-lifespans profile, not by waiting an hour.
func skipUnlessWaitable(lifespan time.Duration, what string) {
	if lifespan > iv.LifespanWait {
		Skip(fmt.Sprintf("N/A: %s is %s here, longer than lifespan-wait %s; run with -kc.profile=short-lifespans (make certify-lifespans) to check its expiry",
			what, lifespan.Round(time.Second), iv.LifespanWait))
	}
}

// verificationCode reads the code from the first mail to address.
func verificationCode(ctx context.Context, address string) string {
	GinkgoHelper()
	mail := newMailpit()
	msgs, err := mail.WaitForMail(ctx, mailpit.WaitInput{To: address, Timeout: iv.MailArrival, Interval: iv.Poll})
	Expect(err).NotTo(HaveOccurred(), "is the courier running and pointed at Mailpit?")
	m, err := mail.Message(ctx, msgs[0].ID)
	Expect(err).NotTo(HaveOccurred())
	code, err := mailpit.Code(m.Text)
	Expect(err).NotTo(HaveOccurred())
	return code
}

// flowIDFromLocation is the flow a redirect points to: ?id= on the flow API, ?flow= on a UI URL.
func flowIDFromLocation(resp *http.Response) (string, error) {
	if resp == nil {
		return "", fmt.Errorf("no response")
	}
	loc, err := resp.Location()
	if err != nil {
		return "", err
	}
	for _, key := range []string{"id", "flow"} {
		if id := loc.Query().Get(key); id != "" {
			return id, nil
		}
	}
	return "", fmt.Errorf("redirect %s names no flow", loc)
}

// configOr reads a live config setting, or fallback when the config is unknown or silent.
func configOr(path, fallback string) string {
	if c := liveConfig(); c != nil {
		if v, ok := c.Value(path); ok {
			return v
		}
	}
	return fallback
}
