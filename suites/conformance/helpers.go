package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
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
	if suite.SampleHash, err = kratosflow.ProbeHash(ctx, newAdmin(), suite.Schema.ID, p.Traits, p.Password); err != nil {
		suite.SetupProblems = append(suite.SetupProblems, "probing the password hasher: "+err.Error())
		return
	}
	suite.Env.Hasher, suite.Env.HasherCost = kratosflow.ParseHash(suite.SampleHash)
}

// readSchema finds the identity schema registrations use (the flag or target
// file, else the config's identity.default_schema_id, else the one the
// deployment lists) and reads it from the deployment itself.
func readSchema(ctx context.Context) {
	client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	id := suite.Config.IdentitySchema
	if id == "" {
		id = configOr("identity.default_schema_id", "")
	}
	if id == "" {
		id, err = identityschema.DefaultID(ctx, client, suite.Endpoints.KratosPublic)
		Expect(err).NotTo(HaveOccurred())
	}
	suite.Schema, err = identityschema.Fetch(ctx, client, suite.Endpoints.KratosPublic, id)
	Expect(err).NotTo(HaveOccurred())
	if len(suite.Schema.PasswordIdentifiers()) == 0 {
		Fail(suite.Schema.Describe() + ": no trait is a password identifier (ory.sh/kratos credentials.password.identifier), " +
			"but the guide's flows log in with identifier and password")
	}
	_, err = suite.Schema.NewIdentity("schema-check", suite.Config.MailDomain())
	Expect(err).NotTo(HaveOccurred(), "the suite cannot make an identity that fits the deployment's schema")
	suite.Env.IdentitySchema = suite.Schema.Describe()
}

// newBrowser is a fresh browser with an empty cookie jar; every spec makes its own.
func newBrowser(opts ...kratosflow.AgentOption) *kratosflow.Agent {
	GinkgoHelper()
	a, err := kratosflow.NewBrowser(suite.Endpoints, suite.Intervals.HTTPRequest, append(opts, kratosflow.WithRecorder(suite.Exchanges))...)
	Expect(err).NotTo(HaveOccurred())
	return a
}

// newNative is an app or server client that carries X-Session-Token, no cookies.
func newNative(opts ...kratosflow.AgentOption) *kratosflow.Agent {
	GinkgoHelper()
	a, err := kratosflow.NewNative(suite.Endpoints, suite.Intervals.HTTPRequest, append(opts, kratosflow.WithRecorder(suite.Exchanges))...)
	Expect(err).NotTo(HaveOccurred())
	return a
}

func newAdmin() *ory.APIClient {
	GinkgoHelper()
	c, err := kratosflow.NewAdmin(suite.Endpoints, suite.Intervals.HTTPRequest, kratosflow.WithRecorder(suite.Exchanges))
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
	id, err := suite.Schema.NewIdentity(purpose, suite.Config.MailDomain())
	Expect(err).NotTo(HaveOccurred())
	remember(id.Identifier)
	return person{Identity: id, Password: fixtures.NewPassword()}
}

// newEmail is a fresh address for a trait change; it is remembered like a
// person's identifier, since it may become one.
func newEmail(purpose string) string {
	email := suite.Schema.NewEmail(purpose, suite.Config.MailDomain())
	remember(email)
	return email
}

func remember(identifier string) {
	suite.Made.Lock()
	defer suite.Made.Unlock()
	suite.Made.list = append(suite.Made.list, identifier)
}

// deleteRegistered deletes the identities that hold an identifier this run made up.
func deleteRegistered(ctx context.Context) error {
	admin := newAdmin()
	var errs []error
	suite.Made.Lock()
	defer suite.Made.Unlock()
	for _, identifier := range suite.Made.list {
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
	return register(ctx, purpose, newBrowser())
}

// registerNativeUser signs a fresh person up through the API flow, as an app does.
func registerNativeUser(ctx context.Context, purpose string) user {
	GinkgoHelper()
	return register(ctx, purpose, newNative())
}

// register signs a fresh person up the way agent's kind of client does.
func register(ctx context.Context, purpose string, agent *kratosflow.Agent) user {
	GinkgoHelper()
	u := user{person: newPerson(purpose), Agent: agent}
	reg, err := agent.Register(ctx, u.Traits, u.Password)
	u.RegisteredAt = time.Now()
	Expect(err).NotTo(HaveOccurred())
	u.Registration = reg
	return u
}

// registrationVerification opens the verification flow u's registration
// showed (show_verification_ui): its id, and its csrf_token ("" if none).
func registrationVerification(ctx context.Context, u user) (flowID, csrf string) {
	GinkgoHelper()
	flowID, ok := kratosflow.VerificationFlowID(u.Registration.Result.ContinueWith)
	Expect(ok).To(BeTrue(), "registration gave no show_verification_ui")
	flow, err := u.Agent.GetVerificationFlow(ctx, flowID)
	Expect(err).NotTo(HaveOccurred())
	if flow.CSRF != nil {
		csrf = *flow.CSRF
	}
	return flowID, csrf
}

// requireMail makes a mail requirement N/A when the deployment's schema
// verifies no trait by email: there is no address to mail a code to.
func requireMail() {
	GinkgoHelper()
	if _, ok := suite.Schema.VerifiedEmail(); !ok {
		Skip("N/A: " + suite.Schema.Describe() + "; no trait is verified by email (ory.sh/kratos verification.via: email), so no code is mailed")
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
	case suite.Endpoints.MailpitAPI != nil:
		inbox = mail.NewMailpit(suite.Endpoints.MailpitAPI, suite.Intervals.HTTPRequest)
	case suite.Endpoints.PostgresDSN != "":
		inbox = mail.NewDatabase(suite.Endpoints.PostgresDSN)
	}
	return mail.Reader{Inbox: inbox, Courier: courier, Timeout: suite.Intervals.MailArrival, Poll: suite.Intervals.Poll}
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
	name := sessionCookieName()
	for _, c := range a.Jar.Cookies(suite.Endpoints.KratosPublic) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// sessionCookieName is Kratos' session cookie, unless session.cookie.name renames it.
func sessionCookieName() string {
	if c := liveConfig(); c != nil {
		if name, ok := c.Value("session.cookie.name"); ok && name != "" {
			return name
		}
	}
	return "ory_kratos_session"
}

// liveConfig is the deployment's Kratos config, or nil when the provider
// cannot show it (an external deployment given without -kc.kratos-config).
func liveConfig() *checks.Config {
	src, ok := suite.Stack.(harness.ConfigSource)
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
		enabled, known := c.Enabled(path)
		if !known {
			enabled, known = kratosDefaults[path]
		}
		if known && !enabled {
			Skip("N/A: " + feature + " is disabled in the deployment's config (" + path + ", or Kratos' default when the config leaves it out)")
		}
	}
}

// kratosDefaults are switches' values when a config leaves them out
// (Kratos' embedx/config.schema.json, v1.3.1 to v26.2): TOTP and recovery are off.
var kratosDefaults = map[string]bool{"selfservice.methods.totp.enabled": false, "selfservice.flows.recovery.enabled": false}

// skipUnlessWaitable makes an expiry requirement N/A when the lifespan is
// longer than a spec may wait (-kc.intervals=lifespan-wait=...): the guide's
// 1h lifespans are checked by the short-lifespans profile, not by waiting an hour.
func skipUnlessWaitable(lifespan time.Duration, what string) {
	if lifespan > suite.Intervals.LifespanWait {
		how := "run with -kc.profile=short-lifespans (make certify-lifespans) to check its expiry"
		if borrowed() {
			how = "certify a copy of the deployment with shorter lifespans, or raise -kc.intervals=lifespan-wait=..."
		}
		Skip(fmt.Sprintf("N/A: %s is %s here, longer than lifespan-wait %s; %s", what, lifespan.Round(time.Second), suite.Intervals.LifespanWait, how))
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

// flowMessages reads the ui message ids of a flow Kratos sent back with an error status.
func flowMessages(err error) []kratosflow.MessageID {
	var flow struct {
		Ui ory.UiContainer `json:"ui"`
	}
	_ = json.Unmarshal(kratosflow.ErrorBody(err), &flow)
	return kratosflow.MessageIDs(flow.Ui)
}

// statusOf is the HTTP status of a kratos-client-go answer (0 without one).
func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// waitPast waits until at has passed on this machine's clock, for windows no
// API shows (the privileged session); skipUnlessWaitable bounds it first.
func waitPast(ctx context.Context, at time.Time) {
	GinkgoHelper()
	Eventually(func() bool { return time.Now().After(at) }).
		WithTimeout(time.Until(at) + suite.Intervals.HTTPRequest).WithPolling(suite.Intervals.Poll).WithContext(ctx).Should(BeTrue())
}

// createIdentity makes an identity with a password through the admin API, as
// the guide's "Create new account" does, and deletes it when the spec ends.
func createIdentity(ctx context.Context, admin *ory.APIClient, p person) (*ory.Identity, *http.Response) {
	GinkgoHelper()
	body := ory.CreateIdentityBody{
		SchemaId: suite.Schema.ID,
		Traits:   p.Traits,
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{Password: &p.Password}}},
	}
	id, resp, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	Expect(err).NotTo(HaveOccurred(), bodyOf(err))
	DeferCleanup(func(ctx SpecContext) {
		// Already gone in the delete spec: 404 is fine here.
		_, _ = admin.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute()
	})
	return id, resp
}

// requireRecoveryMail makes a recovery requirement N/A when the schema
// recovers no trait by email, and returns the trait that does.
func requireRecoveryMail() string {
	GinkgoHelper()
	t, ok := suite.Schema.RecoveryEmail()
	if !ok {
		Skip("N/A: " + suite.Schema.Describe() + "; no trait is recovered by email (ory.sh/kratos recovery.via: email)")
	}
	return t.Path
}

// expectTraits checks that Kratos kept every trait that was sent.
func expectTraits(got any, sent map[string]any) {
	GinkgoHelper()
	Expect(identityschema.Mismatches(sent, got)).To(BeEmpty(), "the identity's traits differ from those registered")
}

// offDomain lists addresses off the shared cookie domain, each with path: a
// foreign host, a look-alike of the cookie domain, the UI over plain http
// (when the UI is https), userinfo and scheme-relative tricks (return URLs
// only, origins have no path), and every entry of the config's list at
// configPath that is not https under the cookie domain, its wildcard filled
// in. The expectation is the guide's shared domain, never the config: the
// config only tells which addresses the deployment might wrongly admit.
func offDomain(path, kind, configPath string) []string {
	domain := strings.TrimPrefix(suite.Endpoints.CookieDomain, ".")
	out := []string{"https://attacker.example.org" + path, "https://" + domain + ".attacker.example.org" + path}
	if suite.Endpoints.UIBase != nil && suite.Endpoints.UIBase.Scheme == "https" {
		out = append(out, "http://"+suite.Endpoints.UIBase.Host+path)
	}
	if kind != "cors" {
		ui := "auth." + domain
		if suite.Endpoints.UIBase != nil {
			ui = suite.Endpoints.UIBase.Host
		}
		out = append(out, "https://"+ui+"@attacker.example.org"+path, "//attacker.example.org"+path)
	}
	if c := liveConfig(); c != nil {
		for _, entry := range c.Strings(configPath) {
			probe := strings.Replace(entry, "*", "kc-probe", 1)
			if entry != "*" && !(strings.HasPrefix(probe, "https://") && checks.UnderDomain(probe, domain)) {
				out = append(out, strings.TrimSuffix(probe, "/")+path)
			}
		}
	}
	return out
}

// anyOrigin is an Origin header a browser would send: the UI's when known, else the public API's.
func anyOrigin() string {
	if suite.Endpoints.UIBase != nil {
		return suite.Endpoints.UIBase.Scheme + "://" + suite.Endpoints.UIBase.Host
	}
	return suite.Endpoints.KratosPublic.Scheme + "://" + suite.Endpoints.KratosPublic.Host
}

// borrowed is true when the deployment was running before the suite and
// outlives it (see harness.Borrowed).
func borrowed() bool {
	_, ok := suite.Stack.(harness.Borrowed)
	return ok
}

func timed(phase string, f func()) {
	start := time.Now()
	defer func() {
		suite.Phases = append(suite.Phases, reports.Phase{Name: phase, Seconds: time.Since(start).Seconds()})
	}()
	f()
}

// warn records what a passing requirement still flags, for the summary's warnings.
func warn(text string) {
	AddReportEntry(framework.WarningEntry, text, ReportEntryVisibilityNever)
}

// recordFault starts a fault scenario's record, which the spec fills in as
// it goes; it enters the spec's report when the spec ends, failed half-way
// included (registered first, this cleanup runs after the spec's own).
func recordFault(rec reports.Fault) *reports.Fault {
	DeferCleanup(func() { AddReportEntry(framework.FaultEntry, rec, ReportEntryVisibilityNever) })
	return &rec
}

// finding reports what a requirement still flags although the guide's bar
// is met (a warning in the summary, naming the ASVS item). Under
// -kc.policy=asvs-l2 an auditor counts it as a failure: the spec then
// fails with it once the rest of the spec has run.
func finding(id, asvs, text string) {
	warn(fmt.Sprintf("%s: FINDING: %s (ASVS %s)", id, text, asvs))
	if suite.Config.Policy == harness.PolicyASVSL2 {
		DeferCleanup(func() {
			Fail(fmt.Sprintf("ASVS %s: %s (-kc.policy=asvs-l2 counts this finding as a failure)", asvs, text))
		})
	}
}

// certExpiryWarning is how close to its end a public certificate is
// reported: two weeks leave time to renew before browsers refuse it.
const certExpiryWarning = 14 * 24 * time.Hour

// certificateAdvisories reads the certificate the public API presents and
// advises when it expires within certExpiryWarning.
func certificateAdvisories(ctx context.Context) []reports.Advisory {
	GinkgoHelper()
	client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	url := suite.Endpoints.KratosPublic.JoinPath("health", "alive").String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred(), "reading the public API's certificate")
	defer resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil // plain HTTP: CL-TLS-001 judges that
	}
	leaf := resp.TLS.PeerCertificates[0]
	if left := time.Until(leaf.NotAfter); left < certExpiryWarning {
		return []reports.Advisory{{
			Setting: fmt.Sprintf("the public API's certificate (subject %q, names %s) expires %s", leaf.Subject, strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.UTC().Format(time.RFC3339)),
			Risk:    fmt.Sprintf("in %s: once expired, every browser and client refuses the public API", left.Round(time.Hour)),
			Source:  "ASVS 9.1.1 (TLS for all client connectivity); renew before it lapses",
		}}
	}
	return nil
}

// stackCan is the stack as the optional capability T, or skips the spec as
// N/A saying what this provider cannot do: the one gate of every capability.
func stackCan[T any](cannot string) T {
	c, ok := suite.Stack.(T)
	if !ok {
		Skip("N/A: the " + suite.Config.Provider + " provider " + cannot)
	}
	return c
}
