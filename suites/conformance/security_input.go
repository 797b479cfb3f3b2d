package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness/client/kratosflow"
	"kratos-conformance/harness/identityschema"
)

// inputSpecs are the security rules on input: identifiers that fold or look
// alike, malformed bodies, long passwords, and what answers must never carry.
func inputSpecs() {
	It("folds the case of login identifiers: registered as User@, it logs in as user@, and user@ cannot register again", Label(req("SEC-INPUT-001"), labelAPI, labelRegistration), func(ctx SpecContext) {
		ids := suite.Schema.PasswordIdentifiers()
		if len(ids) == 0 {
			Skip("N/A: " + suite.Schema.Describe() + "; no trait is a password identifier")
		}
		p := newPerson("Case")
		upper := strings.ToUpper(p.Identifier[:1]) + p.Identifier[1:]
		lower := strings.ToLower(p.Identifier)
		if upper == lower {
			Skip("N/A: the schema's identifier " + p.Identifier + " has no letters to fold")
		}
		By("registering " + upper)
		reg, err := newNative().Register(ctx, identityschema.With(p.Traits, ids[0].Path, upper), p.Password)
		if err != nil && statusOf(reg.Response) == http.StatusBadRequest && slices.Contains(flowMessages(err), kratosflow.MsgBlocked) {
			Skip("N/A: the identity schema refuses an identifier with capitals (" + upper + ")")
		}
		Expect(err).NotTo(HaveOccurred())
		By("logging in as " + lower)
		login, err := newNative().Login(ctx, lower, p.Password)
		Expect(err).NotTo(HaveOccurred(), "registered as %s, the login as %s failed", upper, lower)
		Expect(login.Result.Session.Identity.Id).To(Equal(reg.Result.Identity.Id))
		By("registering " + lower + " again: a duplicate")
		_, err = newNative().Register(ctx, identityschema.With(p.Traits, ids[0].Path, lower), p.Password)
		Expect(err).To(HaveOccurred(), "%s registered beside %s: two accounts differ only by case", lower, upper)
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgDuplicate))
	})
	It("answers malformed input with a 4xx, never a 5xx: a NUL byte, broken JSON, a wrong content type, a 10 MiB body", Label(req("SEC-INPUT-002"), labelAPI, labelNegative), func(ctx SpecContext) {
		app := newNative()
		newFlow := func() string {
			f, err := app.InitLogin(ctx)
			Expect(err).NotTo(HaveOccurred())
			return f.Flow.Id
		}
		submit := func(contentType string, body io.Reader) (int, []byte, error) {
			u := suite.Endpoints.KratosPublic.JoinPath("self-service", "login")
			u.RawQuery = "flow=" + newFlow()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Accept", "application/json")
			resp, err := app.HTTP.Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			return resp.StatusCode, b, nil
		}
		nul, _ := json.Marshal(map[string]string{"method": "password", "identifier": "kc\x00nul@" + suite.Config.MailDomain(), "password": fixtures.NewPassword()})
		for name, in := range map[string]struct {
			contentType string
			body        []byte
		}{
			"a NUL byte in the identifier": {"application/json", nul},
			"broken JSON":                  {"application/json", []byte(`{"method":"password","identifier":`)},
			"a wrong content type":         {"text/plain", []byte("method=password&identifier=x&password=y")},
		} {
			status, body, err := submit(in.contentType, bytes.NewReader(in.body))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "%s: answered %d: %s", name, status, body)
			Expect(kratosShape(body)).To(BeTrue(), "%s: the answer is not Kratos' error or flow JSON: %s", name, body)
		}
		if suite.Endpoints.PublicForwarded {
			// Kratos cuts the connection off; through a port-forward that ends
			// the forward for every request in flight. INCLUSTER-001 sends it.
			AddReportEntry("SEC-INPUT-002 10 MiB body", "not sent: the public API is reached through a port-forward here")
			return
		}
		By("a 10 MiB JSON body: refused with a 4xx or cut off, never a 5xx")
		big := bytes.NewReader(append(append([]byte(`{"method":"password","identifier":"x","password":"`), bytes.Repeat([]byte("a"), 10<<20)...), []byte(`"}`)...))
		status, body, err := submit("application/json", big)
		if err != nil {
			AddReportEntry("SEC-INPUT-002 10 MiB body", "the connection was cut before an answer: "+err.Error())
			return
		}
		Expect(status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "a 10 MiB body answered %d: %.200s", status, body)
		AddReportEntry("SEC-INPUT-002 10 MiB body", fmt.Sprintf("refused with %d (Kratos' shape: %v)", status, kratosShape(body)))
	})
	It("keeps full-width and look-alike (homoglyph) variants of an identifier apart from it: refused, or a separate account, never a way into the original", Label(req("SEC-INPUT-003"), labelAPI, labelRegistration), func(ctx SpecContext) {
		ids := suite.Schema.PasswordIdentifiers()
		if len(ids) == 0 {
			Skip("N/A: " + suite.Schema.Describe() + "; no trait is a password identifier")
		}
		u := registerNativeUser(ctx, "glyph")
		variants := map[string]string{"full-width": fullWidth(u.Identifier), "homoglyph": homoglyph(u.Identifier)}
		for _, kind := range slices.Sorted(maps.Keys(variants)) {
			variant := variants[kind]
			if variant == "" {
				AddReportEntry("SEC-INPUT-003 "+kind, "no letter of "+u.Identifier+" has such a variant")
				continue
			}
			remember(variant)
			By(kind + ": registering " + variant + " beside " + u.Identifier)
			p := newPerson("glyph-variant")
			reg, err := newNative().Register(ctx, identityschema.With(p.Traits, ids[0].Path, variant), p.Password)
			Expect(statusOf(reg.Response)).To(BeNumerically("<", 500), "%s: %s", variant, bodyOf(err))
			folded := err != nil && slices.Contains(flowMessages(err), kratosflow.MsgDuplicate)
			switch {
			case err == nil:
				Expect(reg.Result.Identity.Id).NotTo(Equal(u.Registration.Result.Identity.Id))
				AddReportEntry("SEC-INPUT-003 "+kind, variant+" is a separate account")
				finding("SEC-INPUT-003", "5.1.3", fmt.Sprintf("the %s variant %s registered as an account separate from %s: "+
					"an identifier that looks the same can impersonate another user (the schema's format does not refuse it)", kind, variant, u.Identifier))
			case folded:
				AddReportEntry("SEC-INPUT-003 "+kind, variant+" is refused as the same identifier as "+u.Identifier)
			default:
				AddReportEntry("SEC-INPUT-003 "+kind, fmt.Sprintf("%s is refused (%d, messages %v)", variant, statusOf(reg.Response), flowMessages(err)))
			}
			By(kind + ": logging in as " + variant + " with the original's password")
			login, err := newNative().Login(ctx, variant, u.Password)
			if err == nil {
				Expect(folded).To(BeTrue(), "%s logged into %s's account, though registration did not treat them as one identifier", variant, u.Identifier)
				Expect(login.Result.Session.Identity.Id).To(Equal(u.Registration.Result.Identity.Id))
			}
		}
	})
	It("never lets a password that differs only past its 72nd byte log in (bcrypt's limit): a multibyte password over 72 bytes is refused or kept whole", Label(req("SEC-INPUT-004"), labelAPI, labelRegistration), func(ctx SpecContext) {
		p := newPerson("long-password")
		// 70 bytes, then a 3-byte rune across byte 72: fewer than 72 characters,
		// so a limit counted in characters lets it through to bcrypt.
		base := p.Password + strings.Repeat("é", (70-len(p.Password))/2)
		base += strings.Repeat("x", 70-len(base)) + "€"
		first, second := base+"A", base+"B"
		reg, err := newNative().Register(ctx, p.Traits, first)
		if err != nil {
			Expect(statusOf(reg.Response)).To(Equal(http.StatusBadRequest), "a %d-byte password: %s", len(first), bodyOf(err))
			AddReportEntry("SEC-INPUT-004", fmt.Sprintf("a %d-byte, %d-character password is refused (messages %v)", len(first), utf8.RuneCountInString(first), flowMessages(err)))
			return
		}
		By("the password differing only in its last byte must not log in")
		_, err = newNative().Login(ctx, p.Identifier, second)
		Expect(err).To(HaveOccurred(), "a password differing from the registered one only after byte 72 logged in (truncated by bcrypt)")
		Expect(flowMessages(err)).To(ContainElement(kratosflow.MsgInvalidCredentials))
		login, err := newNative().Login(ctx, p.Identifier, first)
		Expect(err).NotTo(HaveOccurred())
		Expect(login.Result.Session.Identity.Id).To(Equal(reg.Result.Identity.Id))
		AddReportEntry("SEC-INPUT-004", fmt.Sprintf("a %d-byte password is kept whole", len(first)))
	})
	It("never returns credentials, hashes, metadata_admin or the TOTP secret in whoami, login, registration or settings answers", Label(req("SEC-EXPOSE-001"), labelAPI), func(ctx SpecContext) {
		marker := "kc-admin-only-" + strings.ToLower(rand.Text())
		u := registerNativeUser(ctx, "exposure")
		token := u.Registration.Result.GetSessionToken()
		admin := newAdmin()
		_, _, err := admin.IdentityAPI.PatchIdentity(ctx, u.Registration.Result.Identity.Id).JsonPatch([]ory.JsonPatch{
			{Op: "add", Path: "/metadata_admin", Value: map[string]any{"note": marker}}}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		forbidden := []string{marker, u.Password, "hashed_password", "$2a$", "$2b$", "$argon2"}
		answers := map[string][]byte{"registration": rawRegistration(ctx)}
		answers["login"] = rawLogin(ctx, u.Identifier, u.Password)
		answers["whoami"] = rawGet(ctx, "sessions/whoami", token)
		answers["settings flow"] = rawGet(ctx, "self-service/settings/api", token)
		if enabled, _ := liveConfigEnabled("selfservice.methods.totp.enabled"); enabled {
			t := enrolTOTP(ctx)
			forbidden = append(forbidden, t.secret)
			tToken := t.Registration.Result.GetSessionToken()
			answers["whoami after TOTP enrolment"] = rawGet(ctx, "sessions/whoami", tToken)
			answers["settings flow after TOTP enrolment"] = rawGet(ctx, "self-service/settings/api", tToken)
		}
		for what, body := range answers {
			for _, f := range forbidden {
				Expect(string(body)).NotTo(ContainSubstring(f), "the %s answer contains %q", what, f)
			}
		}
	})
}

// fullWidth is s with its first ASCII letter in full-width form (U+FF21..),
// "" when s has none.
func fullWidth(s string) string {
	for i, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return s[:i] + string(r+0xFEE0) + s[i+1:]
		}
	}
	return ""
}

// homoglyph is s with its first letter that has a Cyrillic twin replaced by
// it (Latin a, c, e, o, p, x look the same), "" when s has none.
func homoglyph(s string) string {
	twins := map[rune]rune{'a': 'а', 'c': 'с', 'e': 'е', 'o': 'о', 'p': 'р', 'x': 'х'}
	for i, r := range s {
		if t, ok := twins[r]; ok {
			return s[:i] + string(t) + s[i+1:]
		}
	}
	return ""
}

// kratosShape is true for Kratos' JSON answers: an error object, or a flow
// (its ui carrying the messages).
func kratosShape(body []byte) bool {
	var doc struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
		UI *struct{} `json:"ui"`
	}
	return json.Unmarshal(body, &doc) == nil && (doc.Error != nil && doc.Error.Code >= 400 || doc.UI != nil)
}

// rawGet is the body of a public GET with a session token, as sent.
func rawGet(ctx context.Context, path, token string) []byte {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, suite.Endpoints.KratosPublic.JoinPath(path).String(), nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("X-Session-Token", token)
	req.Header.Set("Accept", "application/json")
	return rawDo(req, http.StatusOK)
}

func rawDo(req *http.Request, want int) []byte {
	GinkgoHelper()
	resp, err := newNative().HTTP.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(want), "%s %s: %s", req.Method, req.URL.Path, body)
	return body
}

// rawLogin is the body of a successful API login, as sent.
func rawLogin(ctx context.Context, identifier, password string) []byte {
	GinkgoHelper()
	flow, err := newNative().InitLogin(ctx)
	Expect(err).NotTo(HaveOccurred())
	return rawSubmit(ctx, "login", flow.Flow.Id, map[string]any{"method": "password", "identifier": identifier, "password": password})
}

// rawRegistration registers another person and returns the answer, as sent.
func rawRegistration(ctx context.Context) []byte {
	GinkgoHelper()
	p := newPerson("exposure-registration")
	flow, err := newNative().InitRegistration(ctx)
	Expect(err).NotTo(HaveOccurred())
	body := rawSubmit(ctx, "registration", flow.Flow.Id, map[string]any{"method": "password", "traits": p.Traits, "password": p.Password})
	Expect(string(body)).NotTo(ContainSubstring(p.Password), "the registration answer contains the password")
	return body
}

func rawSubmit(ctx context.Context, flow, id string, body map[string]any) []byte {
	GinkgoHelper()
	b, err := json.Marshal(body)
	Expect(err).NotTo(HaveOccurred())
	u := suite.Endpoints.KratosPublic.JoinPath("self-service", flow)
	u.RawQuery = "flow=" + id
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return rawDo(req, http.StatusOK)
}
