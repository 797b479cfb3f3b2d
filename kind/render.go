package kind

import (
	"fmt"
	"strconv"

	"kratos-conformance/internal/testca"

	corev1 "k8s.io/api/core/v1"

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
)

// RenderInput is what differs per cluster.
type RenderInput struct {
	KratosImage, PostgresImage, RedisImage, MailpitImage string
	PublicHostPort                                       int    // where kind maps the public NodePort on the host
	Profile                                              string // fixtures.Profiles; empty: guide
	Break                                                string // a fixtures breakage; empty: none
}

// Rendered is the manifests with their per-cluster Secrets and images filled in.
type Rendered struct {
	Objects      *Objects
	KratosConfig []byte // the configs.yaml inside Secret identity-configs
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
	objs, err := Manifests()
	if err != nil {
		return nil, err
	}
	ca, err := harness.NewLocalCA()
	if err != nil {
		return nil, err
	}
	password := fixtures.NewSecret(24)
	rc, err := fixtures.Deployment{
		Profile: in.Profile, Break: in.Break,
		DSN: fmt.Sprintf(postgresDSN, password), SMTPURI: smtpURI,
		IdentitySchemaURL: "file:///identity/schemas/default.json",
		PublicBaseURL:     "https://" + harness.KratosHost + ":" + strconv.Itoa(in.PublicHostPort) + "/",
		PublicHost:        "0.0.0.0", PublicPort: 4433,
		AdminBaseURL: adminURL, AdminHost: "0.0.0.0", AdminPort: 4434,
		TLSCertFile: "/identity/tls/tls.crt", TLSKeyFile: "/identity/tls/tls.key",
	}.Render()
	if err != nil {
		return nil, err
	}
	config := rc.YAML
	for i := range objs.Secrets {
		if objs.Secrets[i].Name == "identity-configs" {
			objs.Secrets[i].StringData = map[string]string{"configs.yaml": string(config)}
		}
	}
	objs.Secrets = append(objs.Secrets,
		secret("postgres-credentials", map[string]string{"password": password}),
		secret("kratos-public-tls", map[string]string{"tls.crt": string(ca.CertPEM), "tls.key": string(ca.KeyPEM)}),
	)
	images := map[string]string{
		"kratos-conformance/kratos:local": in.KratosImage, "kratos-conformance/postgres:local": in.PostgresImage,
		"kratos-conformance/redis:local": in.RedisImage, "kratos-conformance/mailpit:local": in.MailpitImage,
	}
	for i := range objs.Deployments {
		spec := &objs.Deployments[i].Spec.Template.Spec
		for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for j := range list {
				if img, ok := images[list[j].Image]; ok {
					list[j].Image = img
				}
			}
		}
	}
	return &Rendered{Objects: objs, KratosConfig: config, CA: ca, ConfigHash: rc.Hash, Hasher: rc.Hasher, HasherCost: rc.HasherCost,
		PostgresPassword: password}, nil
}

func secret(name string, data map[string]string) corev1.Secret {
	s := corev1.Secret{StringData: data, Type: corev1.SecretTypeOpaque}
	s.Name, s.Namespace = name, namespace
	return s
}
