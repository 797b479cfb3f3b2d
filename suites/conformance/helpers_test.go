package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/harness/identityschema"
)

// probeHasher records what the deployment really hashes passwords with
// (whatever its config says) and keeps one hash it made, so the load stage
// seeds identities with the same algorithm and parameters.
// A deployment that cannot even create an identity (say, its database lacks a
// migration) is still certified: the specs then show what fails, and the
// probe's error is a problem of the run.
func probeHasher(ctx context.Context) {
	p := newPerson("hasher-probe")
	var err error
	if sampleHash, err = kratosflow.ProbeHash(ctx, newAdmin(), schema.ID, p.Traits, p.Password); err != nil {
		setupProblems = append(setupProblems, "probing the password hasher: "+err.Error())
		return
	}
	env.Hasher, env.HasherCost = kratosflow.ParseHash(sampleHash)
}

// sampleHash is a password hash the deployment made (probeHasher).
var sampleHash string

// setupProblems are what the suite's setup found wrong without stopping: each fails the run.
var setupProblems []string

// readSchema finds the identity schema registrations use (the flag or target
// file, else the config's identity.default_schema_id, else the one the
// deployment lists) and reads it from the deployment itself.
func readSchema(ctx context.Context) {
	client, err := ep.HTTPClient(nil, iv.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	id := cfg.IdentitySchema
	if id == "" {
		id = configOr("identity.default_schema_id", "")
	}
	if id == "" {
		id, err = identityschema.DefaultID(ctx, client, ep.KratosPublic)
		Expect(err).NotTo(HaveOccurred())
	}
	schema, err = identityschema.Fetch(ctx, client, ep.KratosPublic, id)
	Expect(err).NotTo(HaveOccurred())
	if len(schema.PasswordIdentifiers()) == 0 {
		Fail(schema.Describe() + ": no trait is a password identifier (ory.sh/kratos credentials.password.identifier), " +
			"but the guide's flows log in with identifier and password")
	}
	_, err = schema.NewIdentity("schema-check", cfg.MailDomain())
	Expect(err).NotTo(HaveOccurred(), "the suite cannot make an identity that fits the deployment's schema")
	env.IdentitySchema = schema.Describe()
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

// person is a new identity's data: traits that fit the deployment's schema,
// the login identifier and mail address among them, and a password.
type person struct {
	identityschema.Identity
	Password string
}

// newPerson makes a unique person; purpose shows in its identifier and address.
func newPerson(purpose string) person {
	GinkgoHelper()
	id, err := schema.NewIdentity(purpose, cfg.MailDomain())
	Expect(err).NotTo(HaveOccurred())
	remember(id.Identifier)
	return person{Identity: id, Password: fixtures.NewPassword()}
}

// newEmail is a fresh address for a trait change; it is remembered like a
// person's identifier, since it may become one.
func newEmail(purpose string) string {
	email := schema.NewEmail(purpose, cfg.MailDomain())
	remember(email)
	return email
}

func remember(identifier string) {
	madeIdentifiers.Lock()
	defer madeIdentifiers.Unlock()
	madeIdentifiers.list = append(madeIdentifiers.list, identifier)
}

// madeIdentifiers are the login identifiers of every person the run made up,
// so deleteRegistered can find what the specs registered on a live deployment.
var madeIdentifiers struct {
	sync.Mutex
	list []string
}

// deleteRegistered deletes the identities that hold an identifier this run made up.
func deleteRegistered(ctx context.Context) error {
	admin := newAdmin()
	var errs []error
	madeIdentifiers.Lock()
	defer madeIdentifiers.Unlock()
	for _, identifier := range madeIdentifiers.list {
		found, _, err := admin.IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(identifier).Execute()
		if err != nil {
			errs = append(errs, fmt.Errorf("find %s: %w", identifier, err))
			continue
		}
		for _, id := range found {
			if _, err := admin.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute(); err != nil {
				errs = append(errs, fmt.Errorf("delete %s (%s): %w", identifier, id.Id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// user is an identity a spec registered for itself, with the agent that did it.
type user struct {
	person
	Agent        *kratosflow.Agent
	Registration kratosflow.Registered
	// RegisteredAt is when the registration's answer arrived: its session and
	// flows were made before, on any clock.
	RegisteredAt time.Time
}

// registerBrowserUser signs a fresh person up through the browser flow.
func registerBrowserUser(ctx context.Context, purpose string) user {
	GinkgoHelper()
	return register(ctx, purpose, newBrowser(), (*kratosflow.Agent).RegisterBrowser)
}

// registerNativeUser signs a fresh person up through the API flow, as an app does.
func registerNativeUser(ctx context.Context, purpose string) user {
	GinkgoHelper()
	return register(ctx, purpose, newNative(), (*kratosflow.Agent).RegisterNative)
}

type registration func(a *kratosflow.Agent, ctx context.Context, traits map[string]any, password string) (kratosflow.Registered, error)

func register(ctx context.Context, purpose string, agent *kratosflow.Agent, walk registration) user {
	GinkgoHelper()
	u := user{person: newPerson(purpose), Agent: agent}
	reg, err := walk(agent, ctx, u.Traits, u.Password)
	u.RegisteredAt = time.Now()
	Expect(err).NotTo(HaveOccurred())
	u.Registration = reg
	return u
}

// requireMail makes a mail requirement N/A when the deployment's schema
// verifies no trait by email: there is no address to mail a code to.
func requireMail() {
	GinkgoHelper()
	if _, ok := schema.VerifiedEmail(); !ok {
		Skip("N/A: " + schema.Describe() + "; no trait is verified by email (ory.sh/kratos verification.via: email), so no code is mailed")
	}
}

// mailReader reads delivered mail from Mailpit when the target has one, else
// from Kratos' courier_messages table when it has a Postgres DSN, else from
// the courier API (whose bodies only a --dev Kratos shows); either way the
// courier API explains a mail that does not come.
func mailReader() mail.Reader {
	courier := mail.NewCourier(newAdmin())
	var inbox mail.Inbox = courier
	switch {
	case ep.MailpitAPI != nil:
		inbox = mail.NewMailpit(ep.MailpitAPI, iv.HTTPRequest)
	case ep.PostgresDSN != "":
		inbox = mail.NewDatabase(ep.PostgresDSN)
	}
	return mail.Reader{Inbox: inbox, Courier: courier, Timeout: iv.MailArrival, Poll: iv.Poll}
}

// waitForMails waits until count mails of templateType reached address and returns them, oldest first.
func waitForMails(ctx context.Context, address, templateType string, count int) []mail.Mail {
	GinkgoHelper()
	got, err := mailReader().Wait(ctx, mail.Want{To: address, Type: templateType, Count: count})
	Expect(err).NotTo(HaveOccurred())
	return got
}

// codeFrom reads the one-time code in a code mail; the spec proves it by using it.
func codeFrom(m mail.Mail) string {
	GinkgoHelper()
	code, err := mail.Code(m)
	Expect(err).NotTo(HaveOccurred())
	return code
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

// liveConfig is the deployment's Kratos config, or nil when the provider
// cannot show it (an external deployment given without -kc.kratos-config).
func liveConfig() *checks.Config {
	src, ok := stack.(harness.ConfigSource)
	if !ok || len(src.KratosConfig()) == 0 {
		return nil
	}
	c, err := checks.ParseConfig(src.KratosConfig())
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
		how := "run with -kc.profile=short-lifespans (make certify-lifespans) to check its expiry"
		if borrowed() {
			how = "certify a copy of the deployment with shorter lifespans, or raise -kc.intervals=lifespan-wait=..."
		}
		Skip(fmt.Sprintf("N/A: %s is %s here, longer than lifespan-wait %s; %s", what, lifespan.Round(time.Second), iv.LifespanWait, how))
	}
}

// verificationCode reads the code from the first verification mail to address.
func verificationCode(ctx context.Context, address string) string {
	GinkgoHelper()
	return codeFrom(waitForMails(ctx, address, mail.TypeVerificationCode, 1)[0])
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
