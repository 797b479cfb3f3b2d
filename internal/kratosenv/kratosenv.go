// Package kratosenv reads environment variables as Kratos reads them: each
// one sets the config key whose path, upper-cased with "_" for ".", is its
// name (SECRETS_COOKIE is secrets.cookie).
package kratosenv

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// envKeys are the settings a variable may set although the config file
// lacks them, as Kratos maps every key of its schema: those Ory's chart
// passes as environment, and every setting a check here judges (DEV=true
// with no dev key in the file turns dev mode on all the same). Any other
// variable overrides a setting where the config has it.
var envKeys = []string{"dsn", "secrets.default", "secrets.cookie", "secrets.cipher", "courier.smtp.connection_uri",
	"serve.public.base_url", "serve.admin.base_url", "cookies.domain", "session.cookie.domain", "log.level",
	"dev", "ciphers.algorithm", "serve.public.cors.enabled", "serve.public.cors.allowed_origins", "serve.public.cors.allow_credentials",
	"selfservice.allowed_return_urls", "selfservice.default_browser_return_url", "session.lifespan", "session.cookie.name",
	"session.whoami.required_aal", "selfservice.flows.settings.privileged_session_max_age", "selfservice.methods.totp.enabled",
	"selfservice.flows.recovery.enabled", "selfservice.methods.password.config.haveibeenpwned_enabled",
	"selfservice.methods.password.config.min_password_length", "identity.default_schema_id", "log.leak_sensitive_values",
	"courier.worker.pull_count", "courier.worker.pull_wait"}

// listKeys are the settings of envKeys whose schema type is a list: their
// variable holds a JSON array or comma-separated values.
var listKeys = []string{"secrets.default", "secrets.cookie", "secrets.cipher", "serve.public.cors.allowed_origins", "selfservice.allowed_return_urls"}

// Apply applies the variables Kratos would read as settings: the
// setting's path upper-cased with "_" for ".", e.g. SECRETS_DEFAULT. A list
// setting takes a JSON array or comma-separated values. It returns the
// variables applied, sorted.
func Apply(doc map[string]any, env map[string]string) []string {
	paths := slices.Clone(envKeys)
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			paths = append(paths, prefix+k)
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", doc)
	var applied []string
	for name, value := range env {
		i := slices.IndexFunc(paths, func(p string) bool { return Name(p) == name })
		if i < 0 {
			continue
		}
		setPath(doc, strings.Split(paths[i], "."), value)
		applied = append(applied, name)
	}
	slices.Sort(applied)
	return applied
}

func setPath(doc map[string]any, path []string, value string) {
	m := doc
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := path[len(path)-1]
	_, isList := m[last].([]any)
	if !isList && !slices.Contains(listKeys, strings.Join(path, ".")) {
		m[last] = scalar(value)
		return
	}
	var list []any
	if json.Unmarshal([]byte(value), &list) != nil {
		for _, v := range strings.Split(value, ",") {
			list = append(list, v)
		}
	}
	m[last] = list
}

// scalar types a variable's text as Kratos' schema would for the scalars
// checks read: true and false are booleans, whole numbers are numbers
// (as a JSON decode of the file gives them), everything else is text.
func scalar(value string) any {
	if value == "true" || value == "false" {
		return value == "true"
	}
	if n, err := strconv.ParseInt(value, 10, 64); err == nil {
		return float64(n)
	}
	return value
}

// Name is the variable Kratos reads for the config key path, e.g.
// "courier.smtp.connection_uri" -> COURIER_SMTP_CONNECTION_URI.
func Name(path string) string { return strings.ToUpper(strings.ReplaceAll(path, ".", "_")) }
