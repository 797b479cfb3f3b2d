package identityschema

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kratos-conformance/fixtures"
)

// Identity is the data of a new identity that fits the schema.
type Identity struct {
	Traits map[string]any
	// Identifier is what a password login types: the first password identifier trait's value.
	Identifier string
	// Email is the address Kratos verifies and mails codes to; "" when the schema verifies none.
	Email string
}

// NewIdentity fills every required trait, and every trait Kratos uses
// (password identifier, verification, recovery, TOTP account name), with a
// valid value; optional traits without such a role stay out. Strings are
// unique per call; purpose shows in them, so a log line tells which spec made
// an identity. Addresses end in @emailDomain.
func (s *Schema) NewIdentity(purpose, emailDomain string) (Identity, error) {
	g := generator{purpose: slug(purpose), emailDomain: emailDomain}
	v, _, err := g.value(s.traits, "", true)
	if err != nil {
		return Identity{}, fmt.Errorf("identity schema %q: %w", s.ID, err)
	}
	traits, _ := v.(map[string]any)
	if traits == nil {
		traits = map[string]any{}
	}
	id := Identity{Traits: traits}
	if ts := s.PasswordIdentifiers(); len(ts) > 0 {
		id.Identifier = fmt.Sprint(Value(traits, ts[0].Path))
	}
	if t, ok := s.VerifiedEmail(); ok {
		id.Email = fmt.Sprint(Value(traits, t.Path))
	}
	return id, nil
}

// NewEmail is a fresh address for a trait that holds one, e.g. a settings change.
func (s *Schema) NewEmail(purpose, emailDomain string) string {
	return generator{purpose: slug(purpose), emailDomain: emailDomain}.email(node{})
}

// Value reads a trait by its dotted path; "[]" steps into an array's first
// item, a number into that item.
func Value(traits any, path string) any {
	var cur any = traits
	for _, part := range strings.Split(path, ".") {
		if list, ok := cur.([]any); ok { // a numeric step, as FormFields writes array items
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(list) {
				return nil
			}
			cur = list[i]
			continue
		}
		name, inArray := strings.CutSuffix(part, "[]")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[name]
		if inArray {
			list, _ := cur.([]any)
			if len(list) == 0 {
				return nil
			}
			cur = list[0]
		}
	}
	return cur
}

// With returns a deep copy of traits with the trait at path set to v.
func With(traits map[string]any, path string, v any) map[string]any {
	out := deepCopy(traits).(map[string]any)
	cur := out
	parts := strings.Split(path, ".")
	for i, part := range parts {
		name, inArray := strings.CutSuffix(part, "[]")
		last := i == len(parts)-1
		switch {
		case inArray && last:
			cur[name] = []any{v}
		case inArray:
			list, _ := cur[name].([]any)
			if len(list) == 0 {
				list = []any{map[string]any{}}
			}
			next, _ := list[0].(map[string]any)
			if next == nil {
				next = map[string]any{}
			}
			list[0], cur[name] = next, list
			cur = next
		case last:
			cur[name] = v
		default:
			next, _ := cur[name].(map[string]any)
			if next == nil {
				next = map[string]any{}
			}
			cur[name] = next
			cur = next
		}
	}
	return out
}

// Without returns a deep copy of traits without the trait at path.
func Without(traits map[string]any, path string) map[string]any {
	out := deepCopy(traits).(map[string]any)
	parts := strings.Split(strings.ReplaceAll(path, "[]", ""), ".")
	cur := out
	for _, part := range parts[:len(parts)-1] {
		next, ok := cur[part].(map[string]any)
		if !ok {
			return out
		}
		cur = next
	}
	delete(cur, parts[len(parts)-1])
	return out
}

// FormFields flattens traits into the HTML form names Kratos renders
// (traits.email, traits.name.first), for a browser's form post.
func FormFields(traits map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				walk(prefix+"."+k, sub)
			}
		case []any:
			for i, sub := range x {
				walk(fmt.Sprintf("%s.%d", prefix, i), sub)
			}
		default:
			out[prefix] = fmt.Sprint(x)
		}
	}
	walk("traits", traits)
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[k] = deepCopy(sub)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = deepCopy(sub)
		}
		return out
	}
	return v
}

type generator struct{ purpose, emailDomain string }

// value makes a value for n; include is false when an optional part without
// a Kratos role is best left out.
func (g generator) value(n node, path string, required bool) (any, bool, error) {
	if !required && !hasRole(n) {
		return nil, false, nil
	}
	if c, ok := n["const"]; ok {
		return c, true, nil
	}
	if enum, ok := n["enum"].([]any); ok && len(enum) > 0 {
		return enum[0], true, nil
	}
	switch typeOf(n) {
	case "object":
		props, _ := n["properties"].(map[string]any)
		out := map[string]any{}
		for _, name := range sortedKeys(props) {
			sub, ok := props[name].(map[string]any)
			if !ok {
				continue
			}
			v, include, err := g.value(sub, join(path, name), slices.Contains(strs(n["required"]), name))
			if err != nil {
				return nil, false, err
			}
			if include {
				out[name] = v
			}
		}
		return out, true, nil
	case "array":
		items, _ := n["items"].(map[string]any)
		count := max(minItems(n), 1)
		var out []any
		for range count {
			v, _, err := g.value(items, path+"[]", true)
			if err != nil {
				return nil, false, err
			}
			out = append(out, v)
		}
		return out, true, nil
	case "integer", "number":
		v, err := number(n, typeOf(n) == "integer")
		if err != nil {
			return nil, false, fmt.Errorf("trait %s: %w", path, err)
		}
		return v, true, nil
	case "boolean":
		return false, true, nil
	}
	v, err := g.str(n)
	if err != nil {
		return nil, false, fmt.Errorf("trait %s: %w", path, err)
	}
	return v, true, nil
}

// hasRole reports whether n or anything under it is a Kratos identifier or address.
func hasRole(n node) bool {
	if ext, ok := n["ory.sh/kratos"].(map[string]any); ok {
		if truthy(ext, "credentials", "password", "identifier") || truthy(ext, "credentials", "totp", "account_name") ||
			dig(ext, "verification", "via") != nil || dig(ext, "recovery", "via") != nil {
			return true
		}
	}
	if props, ok := n["properties"].(map[string]any); ok {
		for _, sub := range props {
			if m, ok := sub.(map[string]any); ok && hasRole(m) {
				return true
			}
		}
	}
	if items, ok := n["items"].(map[string]any); ok {
		return hasRole(items)
	}
	return false
}

func (g generator) str(n node) (string, error) {
	minLen, maxLen := intOr(n, "minLength", 0), intOr(n, "maxLength", math.MaxInt)
	pattern, _ := n["pattern"].(string)
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile(pattern); err != nil {
			return "", fmt.Errorf("pattern %q does not compile: %w", pattern, err)
		}
	}
	fits := func(s string) bool {
		l := utf8.RuneCountInString(s)
		return l >= minLen && l <= maxLen
	}
	format, _ := n["format"].(string)
	var candidate string
	switch {
	case format == "email" || viaEmail(n):
		candidate = g.email(n)
	case format == "uri" || format == "url" || format == "iri":
		candidate = "https://" + fixtures.RandomHex(6) + ".example.test/"
	case format == "date":
		candidate = "2000-01-01"
	case format == "date-time":
		candidate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	case format == "time":
		candidate = "12:00:00Z"
	case format == "uuid":
		b := []byte(fixtures.RandomHex(16))
		candidate = fmt.Sprintf("%s-%s-4%s-8%s-%s", b[0:8], b[8:12], b[13:16], b[17:20], b[20:32])
	case format == "hostname":
		candidate = "h" + fixtures.RandomHex(6) + ".example.test"
	case format == "ipv4":
		candidate = fmt.Sprintf("192.0.2.%d", randInt(250)+1)
	case format == "ipv6":
		candidate = "2001:db8::" + fixtures.RandomHex(2)
	case format == "tel":
		candidate = fmt.Sprintf("+1555%07d", randInt(10_000_000))
	default:
		candidate = g.word(minLen, maxLen)
	}
	if (re == nil || re.MatchString(candidate)) && fits(candidate) {
		return candidate, nil
	}
	if re == nil {
		return "", fmt.Errorf("cannot make a %q string of %d..%d characters", format, minLen, maxLen)
	}
	return fromPattern(pattern, fits)
}

// email is a unique address; its local part shortens to meet maxLength.
func (g generator) email(n node) string {
	maxLen := intOr(n, "maxLength", math.MaxInt)
	id := fixtures.RandomHex(6)
	room := maxLen - len(id) - 2 - len(g.emailDomain)
	prefix := g.purpose
	if room < len(prefix) {
		prefix = prefix[:max(room, 0)]
	}
	if prefix == "" {
		return id + "@" + g.emailDomain
	}
	return prefix + "-" + id + "@" + g.emailDomain
}

// word is a lowercase name: the purpose's letters and enough random hex to be unique.
func (g generator) word(minLen, maxLen int) string {
	w := strings.ReplaceAll(g.purpose, "-", "")
	if w == "" || w[0] < 'a' || w[0] > 'z' {
		w = "u" + w
	}
	w = w[:min(len(w), 10)] + fixtures.RandomHex(6)
	for len(w) < minLen {
		w += fixtures.RandomHex(4)
	}
	return w[:min(len(w), maxLen)]
}

func viaEmail(n node) bool {
	ext, _ := n["ory.sh/kratos"].(map[string]any)
	return dig(ext, "verification", "via") == "email" || dig(ext, "recovery", "via") == "email" ||
		dig(ext, "credentials", "code", "via") == "email"
}

func number(n node, integer bool) (any, error) {
	lo, hasLo := floatOf(n["minimum"])
	if x, ok := floatOf(n["exclusiveMinimum"]); ok {
		lo, hasLo = x+1, true
	}
	hi, hasHi := floatOf(n["maximum"])
	if x, ok := floatOf(n["exclusiveMaximum"]); ok {
		hi, hasHi = x-1, true
	}
	v := 1.0
	if hasLo {
		v = lo
	}
	if step, ok := floatOf(n["multipleOf"]); ok && step > 0 {
		v = math.Ceil(v/step) * step
	}
	if integer {
		v = math.Ceil(v)
	}
	if hasHi && v > hi {
		return nil, errors.New("no number fits its minimum, maximum and multipleOf")
	}
	if integer {
		return int64(v), nil
	}
	return v, nil
}

func floatOf(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

func intOr(n node, key string, def int) int {
	if f, ok := n[key].(float64); ok {
		return int(f)
	}
	return def
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// slug keeps a purpose's lowercase letters, digits and dashes.
func slug(purpose string) string {
	return strings.Trim(strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, purpose)), "-")
}

// Mismatches lists the traits that were sent but come back different in got
// (compared as JSON, so 18 and 18.0 agree). Traits Kratos adds, such as an
// empty object for an optional one, are not mismatches.
func Mismatches(sent map[string]any, got any) []string {
	var out []string
	for path, want := range FormFields(sent) {
		path = strings.TrimPrefix(path, "traits.")
		if have := Value(got, path); fmt.Sprint(have) != want {
			out = append(out, fmt.Sprintf("%s: sent %q, got %v", path, want, have))
		}
	}
	slices.Sort(out)
	return out
}
