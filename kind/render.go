package kind

import (
	"fmt"
	"strconv"

	"kratos-conformance/internal/testca"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"kratos-conformance/fixtures"
	"kratos-conformance/harness"
)

// In-cluster addresses of the test infrastructure and of Kratos' admin API
// (the guide's serve.admin.base_url shape).
const (
	namespace   = "identity"
	postgresDSN = "postgres://kratos:%s@postgres.identity.svc.cluster.local:5432/kratos?sslmode=disable"
	smtpURI     = "smtp://mailpit.identity.svc.cluster.local:1025/?disable_starttls=true"
	adminURL    = "http://kratos-admin.identity.svc.cluster.local:4434/"
	// The chart's admin Service listens on 80; its schema sits in the config ConfigMap.
	chartAdminURL  = "http://kratos-admin.identity.svc.cluster.local/"
	chartSchemaURL = "file:///etc/config/identity.default.schema.json"
)

// RenderInput is what differs per cluster.
type RenderInput struct {
	KratosImage, PostgresImage, RedisImage, MailpitImage string
	PublicHostPort                                       int    // where kind maps the public NodePort on the host
	Profile                                              string // fixtures.Profiles; empty: guide
	Break                                                string // a fixtures breakage; empty: none
	Layout                                               string // LayoutGuide (empty) or LayoutChart
	// Site is the host names the run's CA certifies; zero: the guide's
	// (an operator's chart keeps the host names of their values).
	Site harness.Site
}

// Rendered is the manifests with their per-cluster Secrets and images filled in.
type Rendered struct {
	Objects      *Objects
	Layout       string
	KratosConfig []byte // the config Kratos runs with (the chart's: kratos.yaml plus its environment)
	CA           *testca.CA
	// What the run records of the config, as fixtures.Deployment rendered it.
	ConfigHash, Hasher string
	HasherCost         int
	PostgresPassword   string // Secret postgres-credentials
}

// Render fills Secret identity-configs from fixtures.Deployment, the renderer
// every provider uses (so profiles and breakages apply here too), makes Secrets postgres-credentials and kratos-public-tls, and sets images.
func Render(in RenderInput) (*Rendered, error) {
	if in.KratosImage == "" || in.PostgresImage == "" || in.RedisImage == "" || in.MailpitImage == "" || in.PublicHostPort <= 0 {
		return nil, fmt.Errorf("kind.RenderInput needs the four images and PublicHostPort, got %+v", in)
	}
	if in.Layout == "" {
		in.Layout = LayoutGuide
	}
	objs, err := LayoutManifests(in.Layout)
	if err != nil {
		return nil, err
	}
	if in.Site.PublicHost == "" {
		in.Site = harness.GuideSite()
	}
	ca, err := in.Site.CA()
	if err != nil {
		return nil, err
	}
	password := fixtures.NewSecret(24)
	r := &Rendered{Objects: objs, Layout: in.Layout, CA: ca, PostgresPassword: password}
	if in.Layout != LayoutHelm { // a Helm chart brings the operator's config in its values
		if err := r.renderConfig(in, password); err != nil {
			return nil, err
		}
	}
	objs.Secrets = append(objs.Secrets,
		secret("postgres-credentials", map[string]string{"password": password}),
		// ca.crt as cert-manager writes it: how a client in the cluster (the
		// suite's in-cluster run) learns the CA.
		secret("kratos-public-tls", map[string]string{"tls.crt": string(ca.CertPEM), "tls.key": string(ca.KeyPEM), "ca.crt": string(ca.CAPEM)}),
	)
	images := map[string]string{
		"kratos-conformance/kratos:local": in.KratosImage, "kratos-conformance/postgres:local": in.PostgresImage,
		"kratos-conformance/redis:local": in.RedisImage, "kratos-conformance/mailpit:local": in.MailpitImage,
	}
	for _, spec := range objs.PodSpecs() {
		for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for j := range list {
				if img, ok := images[list[j].Image]; ok {
					list[j].Image = img
				}
			}
		}
	}
	return r, nil
}

// renderConfig fills Secret identity-configs (or the chart layout's Secret
// and ConfigMap) from fixtures.Deployment, the renderer every provider uses.
func (r *Rendered) renderConfig(in RenderInput, password string) error {
	d := fixtures.Deployment{
		Profile: in.Profile, Break: in.Break,
		DSN: fmt.Sprintf(postgresDSN, password), SMTPURI: smtpURI,
		IdentitySchemaURL: "file:///identity/schemas/default.json",
		PublicBaseURL:     "https://" + harness.KratosHost + ":" + strconv.Itoa(in.PublicHostPort) + "/",
		PublicHost:        "0.0.0.0", PublicPort: 4433,
		AdminBaseURL: adminURL, AdminHost: "0.0.0.0", AdminPort: 4434,
		TLSCertFile: "/identity/tls/tls.crt", TLSKeyFile: "/identity/tls/tls.key",
	}
	if in.Layout == LayoutChart {
		d.IdentitySchemaURL, d.AdminBaseURL = chartSchemaURL, chartAdminURL
	}
	rc, err := d.Render()
	if err != nil {
		return err
	}
	config := rc.YAML
	if in.Layout == LayoutChart {
		if err := fillChart(r.Objects, config); err != nil {
			return err
		}
	}
	for i := range r.Objects.Secrets {
		if r.Objects.Secrets[i].Name == "identity-configs" {
			r.Objects.Secrets[i].StringData = map[string]string{"configs.yaml": string(config)}
		}
	}
	r.KratosConfig, r.ConfigHash, r.Hasher, r.HasherCost = config, rc.Hash, rc.Hasher, rc.HasherCost
	return nil
}

func secret(name string, data map[string]string) corev1.Secret {
	s := corev1.Secret{StringData: data, Type: corev1.SecretTypeOpaque}
	s.Name, s.Namespace = name, namespace
	return s
}

// fillChart splits the rendered config as Ory's chart does: DSN, secrets and
// the SMTP URI go into Secret kratos (read as environment), the rest and the
// identity schema into ConfigMap kratos-config.
func fillChart(objs *Objects, config []byte) error {
	var doc map[string]any
	if err := yaml.Unmarshal(config, &doc); err != nil {
		return fmt.Errorf("the rendered config: %w", err)
	}
	env := map[string]string{"dsn": take(doc, "dsn"), "smtpConnectionURI": take(doc, "courier", "smtp", "connection_uri"),
		"secretsDefault": fixtures.NewSecret(32)} // the chart's own: random when the values leave it unset
	if secrets, ok := doc["secrets"].(map[string]any); ok {
		for key, name := range map[string]string{"default": "secretsDefault", "cookie": "secretsCookie", "cipher": "secretsCipher"} {
			if list, ok := secrets[key].([]any); ok && len(list) > 0 {
				env[name] = fmt.Sprint(list[0])
			}
		}
		delete(doc, "secrets")
	}
	rest, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	for i := range objs.Secrets {
		if objs.Secrets[i].Name == "kratos" {
			objs.Secrets[i].StringData = env
		}
	}
	for i := range objs.ConfigMaps {
		if objs.ConfigMaps[i].Name == "kratos-config" {
			objs.ConfigMaps[i].Data = map[string]string{"kratos.yaml": string(rest), "identity.default.schema.json": string(fixtures.IdentitySchema())}
		}
	}
	return nil
}

// take removes the string at path from doc and returns it.
func take(doc map[string]any, path ...string) string {
	m := doc
	for _, key := range path[:len(path)-1] {
		next, ok := m[key].(map[string]any)
		if !ok {
			return ""
		}
		m = next
	}
	v, _ := m[path[len(path)-1]].(string)
	delete(m, path[len(path)-1])
	return v
}

// StackDSN is where Kratos reaches the run's Postgres in the cluster.
func (r *Rendered) StackDSN() string { return fmt.Sprintf(postgresDSN, r.PostgresPassword) }

// StackSMTPURI is where Kratos reaches the run's Mailpit in the cluster.
const StackSMTPURI = smtpURI
