package conformance

import (
	"slices"

	kratosconformance "kratos-conformance"
	"kratos-conformance/suites/framework"
)

// Labels: the fixed set every spec draws from (--label-filter selects by them).
const (
	labelGuide        = "guide"        // a step of the deployment guide's walk
	labelBrowser      = "browser"      // browser flows with cookies and CSRF
	labelAPI          = "api"          // API (native) flows with session tokens
	labelAdmin        = "admin"        // the admin API
	labelMail         = "mail"         // needs the courier and a way to read mail
	labelNegative     = "negative"     // refusals: what Kratos must not accept
	labelRegistration = "registration" // areas of Kratos
	labelVerification = "verification"
	labelRecovery     = "recovery"
	labelLogin        = "login"
	labelLogout       = "logout"
	labelSettings     = "settings"
	labelIdentities   = "identities"
	labelMFA          = "mfa"
	labelSPA          = "spa"        // a single-page app on another subdomain (CORS)
	labelChecklist    = "checklist"  // the guide's configuration checklist
	labelLifespan     = "lifespan"   // expiry: needs lifespans a spec can wait out (make certify-lifespans)
	labelFaults       = "faults"     // opt-in: stops and restarts components (-kc.faults)
	labelRace         = "race"       // opt-in: serve and courier start order (-kc.race)
	labelInCluster    = "in-cluster" // the suite run as a Job in the cluster (-kc.k8s-suite-image, -kc.kind-in-cluster)
	labelSecurity     = "security"   // OWASP ASVS rows: sessions, cookies, CSRF, input, exposure, TLS
	labelUpgrade      = "upgrade"    // data made on an older Kratos, checked after the upgrade (-kc.upgrade-from)
)

// req labels a spec with the requirement it checks (docs/requirements.md);
// the summary's verdict matrix is built from these labels. An id the
// catalogue does not list stops the suite while its tree is built, so any
// run, a dry run included (make unit), catches it.
func req(id string) string {
	if !slices.Contains(catalogue, id) {
		panic("requirement " + id + " is not in docs/requirements.md; catalogue it first")
	}
	return framework.ReqPrefix + id
}

// catalogue is every requirement id of docs/requirements.md.
var catalogue = kratosconformance.RequirementIDs()
