package conformance

import (
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness"
	"kratos-conformance/harness/checklist"
)

const labelChecklist = "checklist"

// The guide's requirements and "Check lists", against the live deployment.
// What the target cannot show (no config given, no process list) is skipped
// with the reason, never passed.
var _ = Describe("Deployment checklist from the guide", Label(labelChecklist), func() {
	It("runs Postgres newer than 13", Label(req("CL-PG-001")), func() {
		if env.PostgresVersion == "" {
			Skip("N/A: the provider cannot reach Postgres (external: postgres_dsn in the target file, or -kc.postgres-dsn)")
		}
		major := versionMajor(env.PostgresVersion)
		Expect(major).To(BeNumerically(">", 13), "Postgres %s", env.PostgresVersion)
	})

	It("runs Redis newer than 6", Label(req("CL-REDIS-001")), func() {
		if env.RedisVersion == "" {
			Skip("N/A: the provider cannot reach Redis (external: redis_addr in the target file, or -kc.redis-addr)")
		}
		major := versionMajor(env.RedisVersion)
		Expect(major).To(BeNumerically(">", 6), "Redis %s", env.RedisVersion)
	})

	It("serves the public API over HTTPS with a certificate the client trusts", Label(req("CL-TLS-002")), func(ctx SpecContext) {
		Expect(ep.KratosPublic.Scheme).To(Equal("https"))
		client, err := ep.HTTPClient(nil, iv.HTTPRequest)
		Expect(err).NotTo(HaveOccurred())
		Expect(harness.HTTPStatusCheck(client, ep.KratosPublic.JoinPath("health", "alive").String(), http.StatusOK)(ctx)).To(Succeed())
	})

	DescribeTable("never answers an admin path on the public URL with data", Label(req("CL-ADMIN-001")),
		func(ctx SpecContext, path string) {
			client, err := ep.HTTPClient(nil, iv.HTTPRequest)
			Expect(err).NotTo(HaveOccurred())
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.KratosPublic.JoinPath(path).String(), nil)
			Expect(err).NotTo(HaveOccurred())
			resp, err := client.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			Expect(resp.StatusCode).NotTo(Equal(http.StatusOK), "GET %s on the public URL answered 200: %s", path, body)
			Expect(string(body)).NotTo(ContainSubstring(`"traits"`))
			if resp.StatusCode/100 == 3 {
				Expect(resp.Header.Get("Location")).NotTo(HavePrefix(ep.KratosPublic.String()), "a redirect must not lead back to the public API")
			}
		},
		Entry("/admin/identities", "admin/identities"),
		Entry("/identities", "identities"),
		Entry("/admin/sessions", "admin/sessions"),
		Entry("/admin/courier/messages", "admin/courier/messages"),
	)

	It("runs the migrations as their own step before serve", Label(req("CL-MIGRATE-001")), func() {
		if env.Provider == "external" {
			Skip("N/A: an external deployment's processes are not visible; kind/'s manifests check KM-MIGRATE-001 offline")
		}
		Expect(env.Components).To(HaveKey("kratos-migrate"))
		Expect(env.Components["kratos"]).NotTo(ContainSubstring("--dev"))
	})

	DescribeTable("has a configuration that meets the guide's checklist",
		func(id string) {
			src, ok := stack.(harness.ConfigSource)
			if !ok || len(src.KratosConfig()) == 0 {
				Skip("N/A: the deployment's configs.yaml is not known (external: kratos_config in the target file, or -kc.kratos-config)")
			}
			cfg, err := checklist.ParseConfig(src.KratosConfig())
			Expect(err).NotTo(HaveOccurred())
			for _, r := range checklist.CheckConfig(cfg) {
				if r.ID == id {
					Expect(r.Status).To(Equal(checklist.Pass), "%s %s: %s", r.ID, r.Requirement, r.Detail)
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
