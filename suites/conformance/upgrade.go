package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/client/mail"
	"kratos-conformance/load"
	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
)

// upgradeData is what the old Kratos made before its upgrade (made in
// BeforeSuite, so every spec after it runs on the upgraded stack): what a
// migration can break, each kept for the spec that checks it survived.
type upgradeData struct {
	From string // the old Kratos' version
	// Served is the version the serving Kratos reported (/admin/version)
	// before the first hop and after each roll.
	Served []string
	// Registered signed up through the browser flow with the deployment's
	// hasher; its address is left unverified; Token is an API login's session.
	Registered user
	Token      string
	// Imported was created through the admin API with an argon2id hash, a
	// verified address and admin metadata.
	Imported         person
	ImportedPassword string
	// TOTP enrolled TOTP; AAL2Token is a session raised to aal2 with it.
	TOTP      totpUser
	AAL2Token string
	// Before is each identity as the admin API showed it on the old Kratos.
	Before map[string]*ory.Identity
	// QueuedTo got a verification mail while the old courier was stopped:
	// it is in the queue when the new courier starts.
	QueuedTo   string
	QueuedFlow string // the verification flow the queued mail's code belongs to
	// Flows made on the old Kratos and submitted on the new one: an API
	// login flow (of Imported), an API registration flow, and a browser
	// settings flow of Settings (whose cookies carry its session and CSRF token).
	LoginFlow        string
	RegistrationFlow string
	Settings         user
	SettingsFlow     *ory.SettingsFlow
	// Hops are the upgrade's steps, one per Kratos after From (-kc.upgrade-from
	// may name a path of several), each with its attacks during the migration.
	Hops []upgradeHop
}

// upgradeHop is one migration and roll: whoami, and password logins of
// Registered, under load on the old serve while the next Kratos' migrations ran.
type upgradeHop struct {
	From, To      string
	Whoami, Login *load.FaultRun
}

// upgrade seeds the old Kratos, runs the new one's migrations under whoami
// load and rolls serve and the courier (-kc.upgrade-from).
func upgrade(ctx context.Context, u harness.Upgrader) {
	GinkgoHelper()
	d := &upgradeData{From: u.UpgradingFrom(), Before: map[string]*ory.Identity{}}
	admin := newAdmin()
	d.Served = append(d.Served, servedVersion(ctx))

	By("on Kratos " + d.From + ": a registered identity with API and browser sessions, its address unverified")
	d.Registered = registerBrowserUser(ctx, "upgrade-registered")
	login, err := newNative().Login(ctx, d.Registered.Identifier, d.Registered.Password)
	Expect(err).NotTo(HaveOccurred())
	d.Token = login.Result.GetSessionToken()

	By("an identity imported with an argon2id hash, a verified address and admin metadata")
	d.Imported = newPerson("upgrade-imported")
	hash := argon2idHash(d.Imported.Password, 64*1024, 1, 2)
	body := ory.CreateIdentityBody{SchemaId: suite.Schema.ID, Traits: d.Imported.Traits,
		MetadataAdmin:  map[string]any{"tier": "gold", "upgraded": true},
		MetadataPublic: map[string]any{"plan": "team"},
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{HashedPassword: &hash}}}}
	if d.Imported.Email != "" {
		body.VerifiableAddresses = []ory.VerifiableIdentityAddress{{Value: d.Imported.Email, Via: "email", Verified: true, Status: "completed"}}
	}
	imported, _, err := admin.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	Expect(err).NotTo(HaveOccurred(), bodyOf(err))

	By("flows left half done: an API login, an API registration, a browser settings flow")
	flow, err := newNative().InitLogin(ctx)
	Expect(err).NotTo(HaveOccurred())
	d.LoginFlow = flow.Flow.Id
	reg, err := newNative().InitRegistration(ctx)
	Expect(err).NotTo(HaveOccurred())
	d.RegistrationFlow = reg.Flow.Id
	d.Settings = registerBrowserUser(ctx, "upgrade-settings")
	settings, err := d.Settings.Agent.InitSettings(ctx)
	Expect(err).NotTo(HaveOccurred())
	d.SettingsFlow = settings.Flow

	By("an identity with TOTP enrolled and an aal2 session")
	d.TOTP = enrolTOTP(ctx)
	d.AAL2Token = aal2Session(ctx, d.TOTP)

	for _, id := range []string{d.Registered.Registration.Result.Identity.Id, imported.Id, d.TOTP.Registration.Result.Identity.Id} {
		got, _, err := admin.IdentityAPI.GetIdentity(ctx, id).IncludeCredential([]string{"password", "totp"}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		d.Before[id] = got
	}

	By("a verification mail queued while the courier is stopped")
	faults, ok := suite.Stack.(harness.Faults)
	Expect(ok).To(BeTrue(), "the %s provider can upgrade but not stop its courier", suite.Config.Provider)
	Expect(faults.Stop(ctx, harness.ComponentCourier)).To(Succeed())
	waitForMails(ctx, d.Registered.Email, mail.TypeVerificationCode, 1) // the registration's, sent before the stop
	d.QueuedTo = d.Registered.Email
	app := newNative()
	vf, err := app.InitVerification(ctx)
	Expect(err).NotTo(HaveOccurred())
	sent, _, err := app.SubmitVerification(ctx, vf.Flow.Id, kratosflow.VerificationEmailBody(d.QueuedTo, vf.CSRF))
	Expect(err).NotTo(HaveOccurred())
	Expect(sent.State).To(Equal("sent_email"))
	d.QueuedFlow = vf.Flow.Id

	suite.Upgrade = d
	for u.UpgradingFrom() != "" && suite.JudgedEarly == nil {
		hop := upgradeHop{From: u.UpgradingFrom(), To: u.UpgradingTo()}
		// Everything above set the test up; from here a failure is the
		// deployment's: the UPG rows fail with it (exit 1), not "could not run".
		if err := InterceptGomegaFailure(func() { upgradeHopOnce(ctx, u, d, &login.Result.Session, hop) }); err != nil {
			suite.JudgedEarly = &judgedEarly{why: fmt.Sprintf("the upgrade did not complete: %s -> %s: %v", hop.From, hop.To, err),
				breaks: func(id string) bool { return strings.HasPrefix(id, "UPG-") }}
		}
	}
}

// upgradeHopOnce runs one hop: the next Kratos' migrations under load, the
// roll, and the serving Kratos' own word that the roll took.
func upgradeHopOnce(ctx context.Context, u harness.Upgrader, d *upgradeData, s *ory.Session, hop upgradeHop) {
	By(fmt.Sprintf("Kratos %s's migrations while the %s serve answers whoami and password logins under load", hop.To, hop.From))
	hop.Whoami, hop.Login = migrateUnderLoad(ctx, u, d, s, hop, len(d.Hops))
	d.Hops = append(d.Hops, hop)
	By("serve and the courier rolled to Kratos " + hop.To)
	err := u.Roll(ctx)
	Expect(err).NotTo(HaveOccurred(), "rolling serve and the courier to Kratos %s: %v", hop.To, err)
	served := servedVersion(ctx)
	d.Served = append(d.Served, served)
	Expect(served).To(Equal(hop.To), "after the roll to Kratos %s the serving Kratos reports %s: the roll did not take", hop.To, served)
}

// servedVersion is what the serving Kratos says it is, not what the provider started.
func servedVersion(ctx context.Context) string {
	GinkgoHelper()
	client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	v, err := harness.KratosVersion(ctx, client, suite.Endpoints.KratosAdmin)
	Expect(err).NotTo(HaveOccurred(), "reading the serving Kratos' version")
	return v
}

// upgradeScope says what an upgrade run proved when no version changed: an
// upgrade from a version to itself runs the plumbing (migrations, roll,
// survival checks), not a migration between versions.
func upgradeScope() []string {
	d := suite.Upgrade
	if d == nil || len(d.Served) < 2 || slices.ContainsFunc(d.Served, func(v string) bool { return v != d.Served[0] }) {
		return nil
	}
	return []string{"upgrade plumbing only (" + strings.Join(d.Served, " -> ") + ": no version changed, so no migration between versions was tested)"}
}

// migrateUnderLoad runs the next Kratos' migrations while two attacks run on
// the old serve: whoami with an old token at faultLoadRate, and password
// logins of d.Registered (flows made before, submitted during) at
// migrationLoginRate. Each gets its per-second timeline, the migration
// marked: load-upgrade[-<hop>][-login].html, hop counted from 2.
func migrateUnderLoad(ctx context.Context, u harness.Upgrader, d *upgradeData, s *ory.Session, hop upgradeHop, n int) (whoami, login *load.FaultRun) {
	GinkgoHelper()
	client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
	Expect(err).NotTo(HaveOccurred())
	pop := &load.Population{Password: d.Registered.Password,
		Identities: []load.Identity{{ID: s.Identity.Id, Identifier: d.Registered.Identifier}},
		Tokens:     []load.Session{{IdentityID: s.Identity.Id, SessionID: s.Id, Token: d.Token}}}
	iv := suite.Intervals
	plan := func(name, report string, sc *load.Scenario, rate float64) load.FaultPlan {
		return load.FaultPlan{Name: name, Report: report, Scenario: sc, Rate: rate,
			At: iv.FaultHold, After: iv.FaultHold, Max: 2*iv.FaultHold + iv.ProcessStep,
			Limits: load.Limits{MaxWorkers: uint64(rate*iv.HTTPRequest.Seconds()) + 16, Timeout: iv.HTTPRequest, Client: client}}
	}
	// The whoami attack runs the migration; the login attack marks the same
	// window: it waits for the migration to begin and to end.
	migrating, migrated, whoamiDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	until := func(ch chan struct{}) func(context.Context) error {
		return func(ctx context.Context) error {
			select {
			case <-ch:
				return nil
			case <-whoamiDone:
				return errors.New("the whoami attack ended before the migration did")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	report := "load-upgrade"
	if n > 0 {
		report += fmt.Sprintf("-%d", n+1)
	}
	name := fmt.Sprintf("Kratos %s's migrations under the %s serve", hop.To, hop.From)
	wp := plan(name, report,
		load.WhoamiToken(suite.Endpoints.KratosPublic, pop, suite.Config.SLOWhoami), faultLoadRate)
	wp.Inject = func(ctx context.Context) error {
		close(migrating)
		defer close(migrated)
		return u.Migrate(ctx)
	}
	wp.Recover = func(context.Context) error { return nil } // the migration ended: the old serve goes on
	// Login flows are made before both attacks start, so they start together
	// and the logins overlap the whole migration.
	logins := load.Login(load.LoginInput{Agent: newNative(), Public: suite.Endpoints.KratosPublic, Population: pop, SLO: suite.Config.SLOLogin, Concurrency: 4})
	lp := plan(name, report+"-login", logins, migrationLoginRate)
	lp.Scenario, err = logins.Prepared(ctx, int(lp.Rate*lp.Max.Seconds())+5)
	Expect(err).NotTo(HaveOccurred(), "login flows for the attack during the migration")
	lp.Inject, lp.Recover = until(migrating), until(migrated)

	var loginErr error
	var wg sync.WaitGroup
	wg.Go(func() { login, loginErr = load.RunFault(ctx, lp, suite.Run.Dir) })
	whoami, err = load.RunFault(ctx, wp, suite.Run.Dir)
	close(whoamiDone)
	wg.Wait()
	for _, m := range []*load.FaultRun{whoami, login} {
		if m == nil {
			continue
		}
		Expect(m.Write(suite.Run.Dir)).To(Succeed())
		figures := map[string]float64{m.Scenario + "_requests": float64(m.Requests), m.Scenario + "_errors": float64(m.Errors)}
		if m.RecoveredAt > 0 { // else the migration failed: its error says so
			figures["migration_seconds"] = m.RecoveredAt - m.InjectedAt
			figures[m.Scenario+"_requests_during_migration"] = float64(m.RequestsDuringFault)
		}
		AddReportEntry(framework.FaultEntry, reports.Fault{
			Name:    fmt.Sprintf("upgrade %s -> %s: the new migrations while the old serve answers %s", hop.From, hop.To, m.Scenario),
			Figures: figures}, ReportEntryVisibilityNever)
	}
	Expect(err).NotTo(HaveOccurred(), "the migration to "+hop.To)
	Expect(loginErr).NotTo(HaveOccurred(), "password logins during the migration")
	return whoami, login
}

// migrationLoginRate is password logins per second during the migration:
// inside bcrypt cost 12's capacity on a small machine (about 7.5/s), and
// paced every 0.2 s so a migration of 0.2 s or more has one sent inside it
// (at 2/s a 0.47 s migration often had none).
const migrationLoginRate = 5

// minDuringMigration is how many requests of each attack UPG-006 needs sent
// inside the migration window before "answered throughout" means anything.
var minDuringMigration = map[string]uint64{"whoami-token": 10, "login": 1}

// aal2Session logs u in with password and TOTP and returns the aal2 session's token.
func aal2Session(ctx context.Context, u totpUser) string {
	GinkgoHelper()
	login, err := newNative().Login(ctx, u.Identifier, u.Password)
	Expect(err).NotTo(HaveOccurred())
	token := login.Result.GetSessionToken()
	flow, err := u.Agent.InitLogin(ctx, kratosflow.AAL2(), kratosflow.SessionToken(token))
	Expect(err).NotTo(HaveOccurred())
	code, err := kratosflow.TOTPCode(u.secret, time.Now())
	Expect(err).NotTo(HaveOccurred())
	_, err = u.Agent.SubmitTOTP(ctx, flow.Flow.Id, code, kratosflow.SessionToken(token))
	Expect(err).NotTo(HaveOccurred())
	return token
}

var _ = Describe("Data made on the old Kratos after an upgrade (-kc.upgrade-from)", Label(labelUpgrade), func() {
	BeforeEach(func() {
		if suite.Upgrade == nil {
			Skip("N/A: not an upgrade run: start the stack on an older Kratos with -kc.upgrade-from (process: binaries, make certify-upgrade FROM=...; containers and kind: images; comma-separated, oldest first)")
		}
	})

	It("keeps every identity: traits, addresses and their verification state, metadata and credential types", Label(req("UPG-001")), func(ctx SpecContext) {
		admin := newAdmin()
		for id, before := range suite.Upgrade.Before {
			after, _, err := admin.IdentityAPI.GetIdentity(ctx, id).IncludeCredential([]string{"password", "totp"}).Execute()
			Expect(err).NotTo(HaveOccurred(), "identity %s made on %s: %s", id, suite.Upgrade.From, bodyOf(err))
			Expect(identityView(after)).To(Equal(identityView(before)), "identity %s changed in the upgrade from %s", id, suite.Upgrade.From)
		}
	})

	It("logs in with passwords set on the old Kratos: registered (the deployment's hasher) and imported (argon2id)", Label(req("UPG-002")), func(ctx SpecContext) {
		d := suite.Upgrade
		for _, p := range []person{d.Registered.person, d.Imported} {
			_, err := newNative().Login(ctx, p.Identifier, p.Password)
			Expect(err).NotTo(HaveOccurred(), "%s's password from %s: %s", p.Identifier, d.From, bodyOf(err))
		}
	})

	It("accepts sessions made on the old Kratos: token and cookie as the same identity and session, aal2 still aal2", Label(req("UPG-003")), func(ctx SpecContext) {
		d := suite.Upgrade
		who, _, err := newNative().Whoami(ctx, d.Token)
		Expect(err).NotTo(HaveOccurred(), "the API session from %s: %s", d.From, bodyOf(err))
		Expect(who.Identity.Id).To(Equal(d.Registered.Registration.Result.Identity.Id))
		who, _, err = d.Registered.Agent.Whoami(ctx, "")
		Expect(err).NotTo(HaveOccurred(), "the browser session from %s: %s", d.From, bodyOf(err))
		Expect(who.Identity.Id).To(Equal(d.Registered.Registration.Result.Identity.Id))
		who, _, err = newNative().Whoami(ctx, d.AAL2Token)
		Expect(err).NotTo(HaveOccurred(), "the aal2 session from %s: %s", d.From, bodyOf(err))
		Expect(who.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL2))
	})

	It("takes a TOTP code of a secret enrolled on the old Kratos", Label(req("UPG-004"), labelMFA), func(ctx SpecContext) {
		token := aal2Session(ctx, suite.Upgrade.TOTP)
		who, _, err := newNative().Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(who.GetAuthenticatorAssuranceLevel()).To(Equal(ory.AUTHENTICATORASSURANCELEVEL_AAL2))
	})

	It("delivers a mail queued on the old Kratos once, and its code verifies the address", Label(req("UPG-005"), labelMail), func(ctx SpecContext) {
		d := suite.Upgrade
		mails := waitForMails(ctx, d.QueuedTo, mail.TypeVerificationCode, 2)
		sent, err := mail.NewCourier(newAdmin()).Messages(ctx, d.QueuedTo)
		Expect(err).NotTo(HaveOccurred())
		for _, m := range sent {
			Expect(m.Status).To(Equal(mail.StatusSent), "courier message %s to %s", m.ID, d.QueuedTo)
			Expect(m.SendCount).To(BeNumerically("==", 1), "courier message %s to %s was sent %d times", m.ID, d.QueuedTo, m.SendCount)
		}
		By("its code, on the flow the old Kratos made for it")
		code := codeFrom(mails[1])
		done, _, err := newNative().SubmitVerification(ctx, d.QueuedFlow, kratosflow.VerificationCodeBody(code, nil))
		Expect(err).NotTo(HaveOccurred())
		Expect(done.State).To(Equal("passed_challenge"))
		who, _, err := newNative().Whoami(ctx, d.Token)
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(who.Identity.VerifiableAddresses).To(ContainElement(And(HaveField("Value", d.QueuedTo), HaveField("Verified", true))))
	})

	It("answers whoami with an old session and logs in with passwords throughout the migration, old serve on the new schema (per-second timelines in load-upgrade.html, load-upgrade-login.html)", Label(req("UPG-006")), func(ctx SpecContext) {
		for _, hop := range suite.Upgrade.Hops {
			for _, m := range []*load.FaultRun{hop.Whoami, hop.Login} {
				AddReportEntry("UPG-006 migration "+m.Scenario, fmt.Sprintf("%s -> %s: migrations took %.2f s; %d %s requests sent inside it; %d of %d failed (%v)",
					hop.From, hop.To, m.RecoveredAt-m.InjectedAt, m.RequestsDuringFault, m.Scenario, m.Errors, m.Requests, m.ErrorKinds))
				need, ok := minDuringMigration[m.Scenario]
				Expect(ok).To(BeTrue(), "no stated minimum for %s during the migration", m.Scenario)
				Expect(m.RequestsDuringFault).To(BeNumerically(">=", need),
					"only %d %s requests were sent inside the %.2f s migration to %s; UPG-006 needs %d to say they were answered throughout",
					m.RequestsDuringFault, m.Scenario, m.RecoveredAt-m.InjectedAt, hop.To, need)
				Expect(m.Errors).To(BeZero(), "%s failed %d times while Kratos %s's migrations ran under the %s serve: %v", m.Scenario, m.Errors, hop.To, hop.From, m.ErrorKinds)
			}
		}
	})

	It("completes a login flow made on the old Kratos", Label(req("UPG-007"), labelLogin), func(ctx SpecContext) {
		d := suite.Upgrade
		done, err := newNative().SubmitLogin(ctx, d.LoginFlow, d.Imported.Identifier, d.Imported.Password, nil)
		Expect(err).NotTo(HaveOccurred(), "the login flow from %s: %s", d.From, bodyOf(err))
		Expect(done.Result.GetSessionToken()).NotTo(BeEmpty())
	})

	It("completes a registration flow made on the old Kratos: the new identity logs in", Label(req("UPG-008")), func(ctx SpecContext) {
		d := suite.Upgrade
		p := newPerson("upgrade-inflight")
		done, err := newNative().SubmitRegistration(ctx, d.RegistrationFlow, p.Traits, p.Password, nil)
		Expect(err).NotTo(HaveOccurred(), "the registration flow from %s: %s", d.From, bodyOf(err))
		Expect(done.Result.Identity.Id).NotTo(BeEmpty())
		_, err = newNative().Login(ctx, p.Identifier, p.Password)
		Expect(err).NotTo(HaveOccurred(), "logging in as the identity registered on the flow from %s: %s", d.From, bodyOf(err))
	})

	It("completes a browser settings flow made on the old Kratos: its cookies and CSRF token still hold, the new password logs in", Label(req("UPG-009"), labelBrowser), func(ctx SpecContext) {
		d := suite.Upgrade
		u := d.Settings
		password := fixtures.NewPassword()
		done, resp, err := submitPassword(ctx, u.Agent, d.SettingsFlow, password)
		if statusOf(resp) == http.StatusForbidden && kratosflow.ErrorID(err) == "session_refresh_required" {
			By("the session outlived privileged_session_max_age: a refresh login on the new Kratos, then the same flow again (its CSRF token renewed by the login)")
			_, err = u.Agent.Login(ctx, u.Identifier, u.Password, kratosflow.Refresh())
			Expect(err).NotTo(HaveOccurred(), bodyOf(err))
			flow, err := u.Agent.GetSettingsFlow(ctx, d.SettingsFlow.Id)
			Expect(err).NotTo(HaveOccurred(), "the settings flow from %s: %s", d.From, bodyOf(err))
			done, resp, err = submitPassword(ctx, u.Agent, flow.Flow, password)
		}
		Expect(err).NotTo(HaveOccurred(), "the settings flow from %s: %s", d.From, bodyOf(err))
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
		Expect(done.State).To(Equal("success"))
		_, err = newNative().Login(ctx, u.Identifier, password)
		Expect(err).NotTo(HaveOccurred(), "the password set on the settings flow from %s: %s", d.From, bodyOf(err))
	})
})

// identityView is what of an identity an upgrade must keep, one line per
// part: traits, state, metadata, addresses with their verification state,
// recovery addresses, and credential types with their identifiers.
func identityView(i *ory.Identity) []string {
	asJSON := func(v any) string {
		b, err := json.Marshal(v)
		Expect(err).NotTo(HaveOccurred())
		return string(b)
	}
	out := []string{"traits " + asJSON(i.Traits), "state " + asJSON(i.State),
		"metadata_admin " + asJSON(i.MetadataAdmin), "metadata_public " + asJSON(i.MetadataPublic)}
	for _, a := range i.VerifiableAddresses {
		out = append(out, fmt.Sprintf("address %s verified=%v status=%s", a.Value, a.Verified, a.Status))
	}
	for _, a := range i.RecoveryAddresses {
		out = append(out, fmt.Sprintf("recovery address %s via %s", a.Value, a.Via))
	}
	var creds []string
	for t, c := range i.GetCredentials() {
		creds = append(creds, fmt.Sprintf("credential %s %v", t, c.Identifiers))
	}
	slices.Sort(creds)
	return append(out, creds...)
}
