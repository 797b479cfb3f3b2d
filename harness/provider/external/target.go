package external

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"kratos-conformance/harness"
)

// Target is a deployment the suite did not start, described in one YAML file
// (-kc.target=FILE; docs/target.example.yaml is annotated). Every field has a
// flag of the same meaning, and a flag or KC_* variable overrides the file.
type Target struct {
	PublicURL string `yaml:"public_url"` // required: Kratos' public base URL as browsers use it
	AdminURL  string `yaml:"admin_url"`  // required: the admin API, e.g. a port-forward
	UIURL     string `yaml:"ui_url"`     // the self-service UI's base URL (CORS origin, redirects)
	// CookieDomain is cookies.domain; empty: read from KratosConfig, else the public host's parent domain.
	CookieDomain string `yaml:"cookie_domain"`
	CAFile       string `yaml:"ca_file"` // PEM CA for the public URL; relative to this file
	// Resolve maps a host, or ".domain" for all of it, to the IP dialled instead of DNS.
	Resolve map[string]string `yaml:"resolve"`
	// KratosConfig is the deployment's configs.yaml (relative to this file), for the
	// config checklist and the settings no API shows (lifespans, privileged window).
	KratosConfig string `yaml:"kratos_config"`
	// IdentitySchema is the schema id registrations use; empty: the config's
	// identity.default_schema_id, else the one GET /schemas lists.
	IdentitySchema string `yaml:"identity_schema"`
	// MailpitURL is the Mailpit that receives the courier's mail; empty: codes
	// are read from Kratos' courier_messages table through PostgresDSN (Kratos'
	// courier API redacts mail bodies unless it runs --dev).
	MailpitURL string `yaml:"mailpit_url"`
	// EmailDomain is the domain of every address the suite registers; pick one
	// your SMTP provider accepts. Default conformance.example.test.
	EmailDomain string `yaml:"email_domain"`
	PostgresDSN string `yaml:"postgres_dsn"` // optional: versions, the courier-network check, and mail without Mailpit (read-only)
	RedisAddr   string `yaml:"redis_addr"`   // optional: the Redis version check
}

// LoadTarget reads a target file strictly: an unknown key is an error that
// names it, so a typo never silently drops a setting.
func LoadTarget(path string) (Target, error) {
	var t Target
	b, err := os.ReadFile(path)
	if err != nil {
		return t, fmt.Errorf("-kc.target: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil && !errors.Is(err, io.EOF) {
		return t, fmt.Errorf("-kc.target %s: %w (fields: %s)", path, err, strings.Join(targetFields(), ", "))
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&t.CAFile, &t.KratosConfig} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return t, nil
}

// targetFields lists the YAML keys, for the error on an unknown one.
func targetFields() []string {
	var keys []string
	for f := range reflect.TypeFor[Target]().Fields() {
		keys = append(keys, f.Tag.Get("yaml"))
	}
	return keys
}

// applyTarget fills every option that no flag or KC_* variable gave from
// the target file, and returns the shared settings it implies.
func (o *Options) applyTarget() (harness.Implied, error) {
	t, err := LoadTarget(o.Target)
	if err != nil {
		return harness.Implied{}, err
	}
	if !o.Resolve.Given() && t.Resolve != nil {
		o.Resolve.SetMap(t.Resolve, "the target file's resolve")
	}
	for _, f := range []struct {
		dst *harness.BaseURL
		val string
	}{{&o.PublicURL, t.PublicURL}, {&o.AdminURL, t.AdminURL}, {&o.UIURL, t.UIURL}, {&o.MailpitURL, t.MailpitURL}} {
		if !f.dst.Given() {
			_ = f.dst.Set(f.val)
		}
	}
	for _, f := range []struct {
		dst *string
		val string
	}{{&o.CookieDomain, t.CookieDomain}, {&o.CAFile, t.CAFile}, {&o.PostgresDSN, t.PostgresDSN}, {&o.RedisAddr, t.RedisAddr}} {
		if *f.dst == "" {
			*f.dst = f.val
		}
	}
	return harness.Implied{By: "-kc.target", Provider: "external", KratosConfig: t.KratosConfig,
		IdentitySchema: t.IdentitySchema, EmailDomain: t.EmailDomain}, nil
}
