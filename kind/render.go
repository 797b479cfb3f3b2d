package kind

import (
	"fmt"
	"strconv"

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
	PublicHostPort                                       int // where kind maps the public NodePort on the host
}

// Rendered is the manifests with their per-cluster Secrets and images filled in.
type Rendered struct {
	Objects      *Objects
	KratosConfig []byte // the configs.yaml inside Secret identity-configs
	CA           *harness.TestCA
}

// Render fills Secret identity-configs from the fixture profile every provider
// uses, makes Secrets postgres-credentials and kratos-public-tls, and sets images.
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
	kc := fixtures.GuideDefaults()
	kc.DSN = fmt.Sprintf(postgresDSN, password)
	kc.IdentitySchemaURL = "file:///identity/schemas/default.json"
	kc.PublicBaseURL = "https://" + harness.KratosHost + ":" + strconv.Itoa(in.PublicHostPort) + "/"
	kc.PublicHost, kc.PublicPort = "0.0.0.0", 4433
	kc.TLSCertFile, kc.TLSKeyFile = "/identity/tls/tls.crt", "/identity/tls/tls.key"
	kc.AdminBaseURL, kc.AdminHost, kc.AdminPort = adminURL, "0.0.0.0", 4434
	kc.SMTPURI = smtpURI
	kc.CookieSecret, kc.CipherSecret = fixtures.NewSecret(32), fixtures.NewSecret(32)
	config, err := kc.Render()
	if err != nil {
		return nil, err
	}
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
	return &Rendered{Objects: objs, KratosConfig: config, CA: ca}, nil
}

func secret(name string, data map[string]string) corev1.Secret {
	s := corev1.Secret{StringData: data, Type: corev1.SecretTypeOpaque}
	s.Name, s.Namespace = name, namespace
	return s
}
