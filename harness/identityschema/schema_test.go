package identityschema

import (
	"regexp"
	"strings"
	"testing"

	"kratos-conformance/fixtures"
)

// Kratos' quickstart (contrib/quickstart/kratos/email-password): email plus an optional name object.
const quickstart = `{"properties":{"traits":{"type":"object","properties":{
  "email":{"type":"string","format":"email","minLength":3,"ory.sh/kratos":{"credentials":{"password":{"identifier":true}},"verification":{"via":"email"},"recovery":{"via":"email"}}},
  "name":{"type":"object","properties":{"first":{"type":"string"},"last":{"type":"string"}}}},
  "required":["email"],"additionalProperties":false}}}`

// A username identifier with a pattern, a required name, the email for mail only,
// an optional phone and a referenced definition.
const username = `{"definitions":{"tz":{"type":"string","enum":["Europe/Berlin","UTC"]}},
 "properties":{"traits":{"type":"object","properties":{
  "username":{"type":"string","pattern":"^[a-z][a-z0-9_]{5,15}$","ory.sh/kratos":{"credentials":{"password":{"identifier":true},"totp":{"account_name":true}}}},
  "email":{"type":"string","format":"email","maxLength":40,"ory.sh/kratos":{"verification":{"via":"email"},"recovery":{"via":"email"}}},
  "name":{"type":"object","properties":{"first":{"type":"string","minLength":2},"last":{"type":"string"}},"required":["first","last"]},
  "age":{"type":"integer","minimum":18,"maximum":130},
  "newsletter":{"type":"boolean"},
  "phone":{"type":"string","format":"tel"},
  "timezone":{"$ref":"#/definitions/tz"}},
  "required":["username","email","name","age","timezone"]}}}`

func TestParseFindsRoles(t *testing.T) {
	for name, c := range map[string]struct {
		raw             string
		identifiers     string
		email, required string
	}{
		"fixture":    {string(fixtures.IdentitySchema()), "email", "email", "email"},
		"quickstart": {quickstart, "email", "email", "email"},
		"username":   {username, "username", "email", "age, email, name.first, name.last, timezone, username"},
	} {
		s, err := Parse(name, []byte(c.raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := paths(s.PasswordIdentifiers()); got != c.identifiers {
			t.Errorf("%s: password identifiers %q, want %q", name, got, c.identifiers)
		}
		if e, _ := s.VerifiedEmail(); e.Path != c.email {
			t.Errorf("%s: verified email %q, want %q", name, e.Path, c.email)
		}
		if got := paths(s.RequiredTraits()); got != c.required {
			t.Errorf("%s: required %q, want %q", name, got, c.required)
		}
	}
}

func TestNewIdentityFillsWhatTheSchemaNeedsAndNothingElse(t *testing.T) {
	s, err := Parse("username", []byte(username))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.NewIdentity("login test", "conformance.example.test")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.NewIdentity("login test", "conformance.example.test")
	if !regexp.MustCompile(`^[a-z][a-z0-9_]{5,15}$`).MatchString(a.Identifier) {
		t.Errorf("username %q does not match the schema's pattern", a.Identifier)
	}
	if a.Identifier == b.Identifier || a.Email == b.Email {
		t.Errorf("two identities share a value: %v / %v", a.Traits, b.Traits)
	}
	if !strings.HasSuffix(a.Email, "@conformance.example.test") || len(a.Email) > 40 || !strings.HasPrefix(a.Email, "lo") {
		t.Errorf("email %q: want the purpose cut short to fit 40 characters", a.Email)
	}
	if first := Value(a.Traits, "name.first"); len(first.(string)) < 2 {
		t.Errorf("name.first %q is shorter than minLength 2", first)
	}
	if Value(a.Traits, "age") != int64(18) || Value(a.Traits, "timezone") != "Europe/Berlin" {
		t.Errorf("age/timezone: %v", a.Traits)
	}
	for _, optional := range []string{"newsletter", "phone"} {
		if _, ok := a.Traits[optional]; ok {
			t.Errorf("optional trait %s without a Kratos role was filled: %v", optional, a.Traits)
		}
	}
	q, _ := Parse("quickstart", []byte(quickstart))
	id, err := q.NewIdentity("x", "example.test")
	if err != nil || id.Identifier != id.Email || len(id.Traits) != 1 {
		t.Errorf("quickstart: want only the email, got %v (%v)", id.Traits, err)
	}
}

func TestFromPatternCoversCommonShapes(t *testing.T) {
	for _, p := range []string{`^[a-z][a-z0-9_]{5,15}$`, `^\d{3}-\d{4}$`, `^(foo|bar)_[A-Z]+$`, `^[^@\s]+@corp\.example$`, `x?y*z+`} {
		got, err := fromPattern(p, func(string) bool { return true })
		if err != nil || !regexp.MustCompile(p).MatchString(got) {
			t.Errorf("fromPattern(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := fromPattern(`^a{3}$`, func(s string) bool { return len(s) > 5 }); err == nil {
		t.Error("a pattern whose values never fit the length bounds must be an error")
	}
}

func TestWithWithoutAndFormFields(t *testing.T) {
	traits := map[string]any{"email": "a@b.test", "name": map[string]any{"first": "A"}}
	changed := With(traits, "name.first", "B")
	if Value(changed, "name.first") != "B" || Value(traits, "name.first") != "A" {
		t.Errorf("With must copy: %v / %v", changed, traits)
	}
	if _, ok := Without(traits, "email")["email"]; ok {
		t.Error("Without kept the trait")
	}
	if m := Mismatches(traits, map[string]any{"email": "a@b.test", "name": map[string]any{"first": "A", "last": ""}, "extra": map[string]any{}}); len(m) != 0 {
		t.Errorf("traits Kratos adds are not mismatches: %v", m)
	}
	if m := Mismatches(map[string]any{"age": int64(18), "tags": []any{"x"}}, map[string]any{"age": 18.0, "tags": []any{"y"}}); len(m) != 1 || !strings.HasPrefix(m[0], "tags.0") {
		t.Errorf("Mismatches = %v, want only tags.0", m)
	}
	f := FormFields(traits)
	if f["traits.email"] != "a@b.test" || f["traits.name.first"] != "A" || len(f) != 2 {
		t.Errorf("FormFields = %v", f)
	}
}

func paths(ts []Trait) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Path)
	}
	return strings.Join(out, ", ")
}
