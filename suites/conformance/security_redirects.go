package conformance

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"kratos-conformance/harness/checks"
	"kratos-conformance/harness/client/kratosflow"
)

// redirectSpecs is the security rule on redirects: return_to off the cookie
// domain, however it is spelled.
func redirectSpecs() {
	It("refuses return_to off the cookie domain on registration, settings, recovery, verification and login (with encoded and backslash variants), and logout never redirects there", Label(req("SEC-REDIR-001"), labelBrowser, labelNegative), func(ctx SpecContext) {
		u := registerBrowserUser(ctx, "redirects")
		type initFlow func(a *kratosflow.Agent, target string) (returnTo string, resp *http.Response, err error)
		// Every flow refuses an absolute return_to off the domain at once.
		flows := map[string]initFlow{
			"login": func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitLogin(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			},
			"registration": func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitRegistration(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			},
			"settings": func(_ *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := u.Agent.InitSettings(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			},
		}
		if _, ok := suite.Schema.RecoveryEmail(); ok && enabledOrUnknown("selfservice.flows.recovery.enabled") {
			flows["recovery"] = func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitRecovery(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			}
		}
		if u.Email != "" && enabledOrUnknown("selfservice.flows.verification.enabled") {
			flows["verification"] = func(a *kratosflow.Agent, t string) (string, *http.Response, error) {
				f, err := a.InitVerification(ctx, kratosflow.ReturnTo(t))
				return f.Flow.GetReturnTo(), f.Response, err
			}
		}
		off := offDomain("/return", "allowed_return_urls", "selfservice.allowed_return_urls")
		var opened []string
		for _, name := range slices.Sorted(maps.Keys(flows)) {
			By(name + ": " + fmt.Sprint(len(off)) + " targets off the domain")
			for _, target := range off {
				stored, resp, err := flows[name](newBrowser(), target)
				if err == nil || statusOf(resp) >= 500 {
					opened = append(opened, fmt.Sprintf("%s return_to=%s: answered %d (kept as %q), not refused", name, target, statusOf(resp), stored))
				}
			}
		}
		// Spellings parsers disagree on may be taken as a path on the domain:
		// where Kratos then really redirects a browser is what counts.
		targets := append(off, redirectVariants()...)
		By("login with each return_to, spelled " + fmt.Sprint(len(redirectVariants())) + " more ways: refused, or the browser is sent on the domain")
		for _, target := range redirectVariants() {
			b := newBrowser()
			flow, err := b.InitLogin(ctx, kratosflow.ReturnTo(target))
			if err != nil {
				if status := statusOf(flow.Response); status >= 500 || status < 400 {
					opened = append(opened, fmt.Sprintf("login return_to=%q: answered %d", target, status))
				}
				continue
			}
			csrf, err := kratosflow.CSRFToken(flow.Flow.Ui)
			Expect(err).NotTo(HaveOccurred())
			resp, err := b.SubmitHTMLForm(ctx, flow.Flow.Ui.Action, url.Values{"csrf_token": {csrf}, "method": {"password"}, "identifier": {u.Identifier}, "password": {u.Password}})
			Expect(err).NotTo(HaveOccurred())
			if loc := resp.Header.Get("Location"); offTheDomain(loc) {
				opened = append(opened, fmt.Sprintf("login return_to=%q: redirected to %q", target, loc))
			}
		}
		By("logout with each return_to: the redirect never leaves the domain")
		for _, target := range targets {
			b := newBrowser()
			_, err := b.Login(ctx, u.Identifier, u.Password)
			Expect(err).NotTo(HaveOccurred())
			flow, resp, err := b.InitLogout(ctx, kratosflow.ReturnTo(target))
			if err != nil {
				Expect(statusOf(resp)).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "logout return_to=%s: %s", target, bodyOf(err))
				continue
			}
			resp, err = b.FollowLogout(ctx, flow.LogoutUrl)
			Expect(err).NotTo(HaveOccurred())
			if loc := resp.Header.Get("Location"); offTheDomain(loc) {
				opened = append(opened, fmt.Sprintf("logout return_to=%s: redirected to %q", target, loc))
			}
		}
		Expect(opened).To(BeEmpty(), "return_to off the shared cookie domain not refused, or followed")
	})
}

// redirectVariants are spellings of a foreign host that parsers disagree on:
// backslashes (browsers read them as slashes), percent-encoded slashes and
// at-signs, and a tab.
func redirectVariants() []string {
	domain := strings.TrimPrefix(suite.Endpoints.CookieDomain, ".")
	return []string{
		`/\attacker.example.org/return`, `https:/\attacker.example.org/return`, `https://attacker.example.org\@` + domain + `/return`,
		"https://attacker.example.org%2F@" + domain + "/return", "https://" + domain + "%40attacker.example.org/return",
		"https:%2F%2Fattacker.example.org/return", "/%2Fattacker.example.org/return", "/\tattacker.example.org",
	}
}

// offTheDomain is true when a browser sent to target (a Location) would land
// off the shared cookie domain, or on it over plain http.
func offTheDomain(target string) bool {
	if target == "" {
		return false
	}
	u, err := checks.BrowserResolve(suite.Endpoints.KratosPublic, target)
	if err != nil {
		return false // no browser follows what does not parse either
	}
	downgrade := suite.Endpoints.KratosPublic.Scheme == "https" && u.Scheme != "https"
	return downgrade || !checks.UnderDomain(u.Scheme+"://"+u.Host, strings.TrimPrefix(suite.Endpoints.CookieDomain, "."))
}
