package conformance

import (
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ory "github.com/ory/kratos-client-go"

	"kratos-conformance/harness/identityschema"
)

var _ = Describe("Admin identity management as the guide's Administrator section walks it", Label(labelGuide, labelAdmin, labelIdentities), func() {
	var admin *ory.APIClient
	BeforeEach(func() { admin = newAdmin() })

	It("creates an identity with a password and never returns the hash", Label(req("GUIDE-ADM-001")), func(ctx SpecContext) {
		p := newPerson("admin-create")
		id, resp := createIdentity(ctx, admin, p)
		Expect(resp.StatusCode).To(Equal(http.StatusCreated))
		Expect(id.SchemaId).To(Equal(suite.Schema.ID))
		Expect(id.GetState()).To(Equal("active"))
		expectTraits(id.Traits, p.Traits)
		if p.Email != "" {
			Expect(id.VerifiableAddresses).To(ConsistOf(And(HaveField("Value", p.Email), HaveField("Verified", false), HaveField("Status", "pending"))))
		}
		if t, ok := suite.Schema.RecoveryEmail(); ok {
			Expect(id.RecoveryAddresses).To(ConsistOf(HaveField("Value", identityschema.Value(p.Traits, t.Path))))
		}
		password, ok := id.GetCredentials()["password"]
		Expect(ok).To(BeTrue(), "the response lists the password credential")
		Expect(password.Identifiers).To(ConsistOf(passwordIdentifiers(p)))
		Expect(password.Config).NotTo(HaveKey("hashed_password"))
	})

	It("gets the identity with include_credential=password and shows a bcrypt hash at the configured cost", Label(req("GUIDE-ADM-002")), func(ctx SpecContext) {
		id, _ := createIdentity(ctx, admin, newPerson("admin-get"))

		By("getting it without credentials: no hash")
		plain, resp, err := admin.IdentityAPI.GetIdentity(ctx, id.Id).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		for _, c := range plain.GetCredentials() {
			Expect(c.Config).NotTo(HaveKey("hashed_password"))
		}

		By("getting it with include_credential=password: the hash is bcrypt with cost 12")
		full, resp, err := admin.IdentityAPI.GetIdentity(ctx, id.Id).IncludeCredential([]string{"password"}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		hash, _ := full.GetCredentials()["password"].Config["hashed_password"].(string)
		Expect(hash).To(HavePrefix("$2a$12$"), "the guide configures bcrypt with cost 12")
	})

	It("patches the address to verified and completed and adds metadata_public and metadata_admin", Label(req("GUIDE-ADM-003")), func(ctx SpecContext) {
		requireMail()
		id, _ := createIdentity(ctx, admin, newPerson("admin-patch"))

		By("marking the email as verified manually")
		verified, resp, err := admin.IdentityAPI.PatchIdentity(ctx, id.Id).JsonPatch([]ory.JsonPatch{
			{Op: "replace", Path: "/verifiable_addresses/0/verified", Value: true},
			{Op: "replace", Path: "/verifiable_addresses/0/status", Value: "completed"},
		}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(verified.VerifiableAddresses).To(ConsistOf(And(HaveField("Verified", true), HaveField("Status", "completed"))))

		By("adding properties to metadata_public and metadata_admin")
		patched, resp, err := admin.IdentityAPI.PatchIdentity(ctx, id.Id).JsonPatch([]ory.JsonPatch{
			{Op: "add", Path: "/metadata_public", Value: map[string]interface{}{}},
			{Op: "add", Path: "/metadata_public/everyone", Value: map[string]interface{}{"can": "read", "cannot": "modify"}},
			{Op: "add", Path: "/metadata_public/admin", Value: "can_do_whatever_admin_want_to"},
			{Op: "add", Path: "/metadata_admin", Value: map[string]interface{}{}},
			{Op: "add", Path: "/metadata_admin/everyone", Value: map[string]interface{}{"cannot": "read_or_modify"}},
			{Op: "add", Path: "/metadata_admin/admin", Value: "can_do_whatever_admin_want_to"},
		}).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(patched.MetadataPublic).To(Equal(map[string]interface{}{
			"everyone": map[string]interface{}{"can": "read", "cannot": "modify"}, "admin": "can_do_whatever_admin_want_to"}))
		Expect(patched.MetadataAdmin).To(Equal(map[string]interface{}{
			"everyone": map[string]interface{}{"cannot": "read_or_modify"}, "admin": "can_do_whatever_admin_want_to"}))

		By("reading it back: both changes were stored")
		got, _, err := admin.IdentityAPI.GetIdentity(ctx, id.Id).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(got.VerifiableAddresses).To(ConsistOf(HaveField("Verified", true)))
		Expect(got.MetadataAdmin).To(HaveKeyWithValue("admin", "can_do_whatever_admin_want_to"))
	})

	It("lists with per_page, page and credentials_identifier and finds exactly that identity", Label(req("GUIDE-ADM-004")), func(ctx SpecContext) {
		p := newPerson("admin-list")
		id, _ := createIdentity(ctx, admin, p)
		createIdentity(ctx, admin, newPerson("admin-list-other"))

		list, resp, err := admin.IdentityAPI.ListIdentities(ctx).PerPage(250).Page(0).CredentialsIdentifier(p.Identifier).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(list).To(ConsistOf(HaveField("Id", id.Id)))

		By("asking for an identifier nobody has: an empty list")
		none, _, err := admin.IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(newPerson("nobody").Identifier).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(none).To(BeEmpty())
	})

	It("deletes the identity with 204, after which get answers 404", Label(req("GUIDE-ADM-005")), func(ctx SpecContext) {
		id, _ := createIdentity(ctx, admin, newPerson("admin-delete"))

		resp, err := admin.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		Expect(resp.StatusCode).To(Equal(http.StatusNoContent))

		_, resp, err = admin.IdentityAPI.GetIdentity(ctx, id.Id).Execute()
		Expect(err).To(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
	})
})

// passwordIdentifiers are the values of every trait a password login accepts.
func passwordIdentifiers(p person) []string {
	var out []string
	for _, t := range suite.Schema.PasswordIdentifiers() {
		if v := identityschema.Value(p.Traits, t.Path); v != nil {
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}
