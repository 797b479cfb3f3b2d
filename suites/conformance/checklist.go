package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"kratos-conformance/internal/wait"
	"kratos-conformance/kind"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness"
	"kratos-conformance/harness/checks"
	"kratos-conformance/reports"
	"kratos-conformance/suites/framework"
)

// The guide's requirements and "Check lists", against the live deployment.
// What the target cannot show (no config given, no process list) is skipped
// with the reason, never passed.
var _ = Describe("Deployment checklist from the guide", Label(labelChecklist), func() {
	It("runs Postgres newer than 13", Label(req("CL-PG-001")), func() {
		if suite.Env.PostgresVersion == "" {
			Skip("N/A: the provider cannot reach Postgres (external: postgres_dsn in the target file, or -kc.postgres-dsn)")
		}
		major := versionMajor(suite.Env.PostgresVersion)
		Expect(major).To(BeNumerically(">", 13), "Postgres %s", suite.Env.PostgresVersion)
	})

	It("runs Redis newer than 6", Label(req("CL-REDIS-001")), func() {
		if suite.Env.RedisVersion == "" {
			Skip("N/A: the provider cannot reach Redis (external: redis_addr in the target file, or -kc.redis-addr)")
		}
		major := versionMajor(suite.Env.RedisVersion)
		Expect(major).To(BeNumerically(">", 6), "Redis %s", suite.Env.RedisVersion)
	})

	It("serves the public API over HTTPS with a certificate the client trusts", Label(req("CL-TLS-002")), func(ctx SpecContext) {
		Expect(suite.Endpoints.KratosPublic.Scheme).To(Equal("https"))
		client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
		Expect(err).NotTo(HaveOccurred())
		Expect(wait.HTTPStatus(client, suite.Endpoints.KratosPublic.JoinPath("health", "alive").String(), http.StatusOK)(ctx)).To(Succeed())
	})

	DescribeTable("never answers an admin path on the public URL with data", Label(req("CL-ADMIN-001")),
		func(ctx SpecContext, path string) {
			client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
			Expect(err).NotTo(HaveOccurred())
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, suite.Endpoints.KratosPublic.JoinPath(path).String(), nil)
			Expect(err).NotTo(HaveOccurred())
			resp, err := client.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			Expect(resp.StatusCode).NotTo(Equal(http.StatusOK), "GET %s on the public URL answered 200: %s", path, body)
			Expect(string(body)).NotTo(ContainSubstring(`"traits"`))
			if resp.StatusCode/100 == 3 {
				Expect(resp.Header.Get("Location")).NotTo(HavePrefix(suite.Endpoints.KratosPublic.String()), "a redirect must not lead back to the public API")
			}
		},
		Entry("/admin/identities", "admin/identities"),
		Entry("/identities", "identities"),
		Entry("/admin/sessions", "admin/sessions"),
		Entry("/admin/courier/messages", "admin/courier/messages"),
	)

	It("never lets a write to an admin path through the public URL change anything (verified through the admin API)", Label(req("CL-ADMIN-001")), func(ctx SpecContext) {
		u := registerNativeUser(ctx, "admin-writes")
		// A login's session, not the registration's: this check must not hang on the session hook.
		login, err := newNative().Login(ctx, u.Identifier, u.Password)
		Expect(err).NotTo(HaveOccurred())
		id, token, sessionID := u.Registration.Result.Identity.Id, login.Result.GetSessionToken(), login.Result.Session.Id
		intruder := newPerson("admin-writes-intruder")
		client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
		Expect(err).NotTo(HaveOccurred())
		for _, w := range []struct{ method, path, body string }{
			{http.MethodPost, "admin/identities", string(mustJSON(map[string]any{"schema_id": suite.Schema.ID, "traits": intruder.Traits}))},
			{http.MethodPatch, "admin/identities/" + id, `[{"op":"replace","path":"/state","value":"inactive"}]`},
			{http.MethodDelete, "admin/identities/" + id, ""},
			{http.MethodDelete, "admin/identities/" + id + "/sessions", ""},
			{http.MethodDelete, "admin/sessions/" + sessionID, ""},
			{http.MethodPost, "admin/recovery/code", `{"identity_id":"` + id + `"}`},
			{http.MethodPost, "identities", string(mustJSON(map[string]any{"schema_id": suite.Schema.ID, "traits": intruder.Traits}))},
		} {
			By(w.method + " /" + w.path + " on the public URL")
			req, err := http.NewRequestWithContext(ctx, w.method, suite.Endpoints.KratosPublic.JoinPath(w.path).String(), strings.NewReader(w.body))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			Expect(err).NotTo(HaveOccurred())
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			Expect(resp.StatusCode).NotTo(BeElementOf(http.StatusOK, http.StatusCreated, http.StatusNoContent), "%s /%s answered %d: %s", w.method, w.path, resp.StatusCode, body)
			Expect(string(body)).NotTo(ContainSubstring("recovery_code"))
		}
		By("the admin API shows nothing changed: no new identity, the user active with a live session")
		found, _, err := newAdmin().IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(intruder.Identifier).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(found).To(BeEmpty(), "an identity was created through the public URL")
		got, _, err := newAdmin().IdentityAPI.GetIdentity(ctx, id).Execute()
		Expect(err).NotTo(HaveOccurred(), "the identity was deleted through the public URL: %s", bodyOf(err))
		Expect(got.GetState()).To(Equal("active"))
		_, resp, err := u.Agent.Whoami(ctx, token)
		Expect(err).NotTo(HaveOccurred(), "the session was revoked through the public URL: %s", bodyOf(err))
		Expect(statusOf(resp)).To(Equal(http.StatusOK))
	})

	// serve never migrates a SQL database itself, so a database with every
	// migration of the running Kratos applied was migrated by a step of its own.
	// Kratos' readiness has a "migrations" check that fails while any is pending.
	It("has every migration of the running Kratos applied: /admin/health/ready passes its migrations check", Label(req("CL-MIGRATE-001")), func(ctx SpecContext) {
		client, err := suite.Endpoints.HTTPClient(nil, suite.Intervals.HTTPRequest)
		Expect(err).NotTo(HaveOccurred())
		Expect(wait.HTTPStatus(client, suite.Endpoints.KratosAdmin.JoinPath("admin", "health", "ready").String(), http.StatusOK)(ctx)).To(Succeed(),
			"Kratos is not ready; \"migrations have not yet been fully applied\" means the migrate step did not run for this Kratos version")
		if suite.Endpoints.PostgresDSN != "" {
			applied, err := harness.AppliedMigrations(ctx, suite.Endpoints.PostgresDSN)
			Expect(err).NotTo(HaveOccurred())
			Expect(applied).NotTo(BeZero(), "schema_migration is empty")
			AddReportEntry("applied migrations", applied)
		}
	})

	DescribeTable("has a configuration that meets the guide's checklist",
		func(id string) {
			src, ok := suite.Stack.(harness.ConfigSource)
			if !ok || len(src.KratosConfig()) == 0 {
				Skip("N/A: the deployment's configs.yaml is not known (external: kratos_config in the target file, or -kc.kratos-config)")
			}
			cfg, err := checks.ParseConfig(src.KratosConfig())
			Expect(err).NotTo(HaveOccurred())
			for _, r := range checks.CheckConfig(cfg) {
				if r.ID == id {
					Expect(r.Status).To(Equal(reports.Pass), "%s %s: %s", r.ID, r.Requirement, r.Detail)
					return
				}
			}
			Fail("no checklist requirement " + id)
		},
		Entry("public base URL is https", Label(req("CL-TLS-001")), "CL-TLS-001"),
		Entry("cookie domain with its leading dot", Label(req("CL-COOKIE-001")), "CL-COOKIE-001"),
		Entry("every UI and return URL https and under the cookie domain", Label(req("CL-COOKIE-002")), "CL-COOKIE-002"),
		Entry("secrets are not published examples and long enough", Label(req("CL-SECRET-001")), "CL-SECRET-001"),
		Entry("cipher is not noop", Label(req("CL-CIPHER-001")), "CL-CIPHER-001"),
		Entry("CORS admits only https origins on the cookie domain", Label(req("CL-CORS-001")), "CL-CORS-001"),
		Entry("dev mode is off", Label(req("CL-DEV-001")), "CL-DEV-001"),
	)

	// The objects a cluster runs, as the kubernetes provider read them; the
	// suite's own manifests meet the same checks in make unit.
	for _, check := range checks.CheckObjects(&kind.Objects{}) {
		It("has Kubernetes objects that meet the guide: "+check.Requirement, Label(req(check.ID)), func() {
			src, ok := suite.Stack.(checks.ManifestSource)
			if !ok || src.Manifests() == nil {
				Skip("N/A: this provider does not read the deployment's Kubernetes objects (-kc.provider=kubernetes does)")
			}
			for _, r := range checks.CheckObjects(src.Manifests()) {
				if r.ID == check.ID {
					for _, w := range r.Warnings {
						AddReportEntry(framework.WarningEntry, r.ID+": "+w)
					}
					Expect(r.Status).To(Equal(reports.Pass), "%s %s: %s", r.ID, r.Requirement, r.Detail)
				}
			}
		})
	}
})

// versionMajor reads "15.18" or "7.0.15" as its major number.
func versionMajor(v string) int {
	major := 0
	for _, r := range strings.SplitN(v, ".", 2)[0] {
		if r < '0' || r > '9' {
			break
		}
		major = major*10 + int(r-'0')
	}
	return major
}

func mustJSON(v any) []byte {
	GinkgoHelper()
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return b
}
