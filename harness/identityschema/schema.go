// Package identityschema reads a deployment's identity schema, as Kratos
// serves it, and makes identities that fit it: every required trait and every
// trait Kratos uses (login identifier, verification and recovery address)
// filled with a valid, unique value. The specs then never assume the suite's
// own schema.
package identityschema

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Schema is one identity schema and the roles its traits play for Kratos.
type Schema struct {
	ID     string
	traits node // the schema of "traits"
	// Traits lists every trait leaf by dotted path ("email", "name.first"), sorted.
	Traits []Trait
}

// Trait is one leaf of the traits object.
type Trait struct {
	Path     string // dotted, e.g. "name.first"; array items end in "[]"
	Required bool   // required at every level from the traits root down
	// Roles from the schema's "ory.sh/kratos" extension.
	PasswordIdentifier bool
	TOTPAccountName    bool
	VerificationVia    string // "email", "sms" or ""
	RecoveryVia        string
	schema             node
}

// node is a JSON-Schema object.
type node = map[string]any

// Parse reads a schema as GET /schemas/{id} returns it.
func Parse(id string, raw []byte) (*Schema, error) {
	var root node
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("identity schema %q is not JSON: %w", id, err)
	}
	r := resolver{root: root}
	props, _ := r.deref(root)["properties"].(map[string]any)
	traits, ok := props["traits"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("identity schema %q has no properties.traits; Kratos requires one", id)
	}
	s := &Schema{ID: id, traits: r.deref(traits)}
	s.Traits = r.leaves(s.traits, "", true)
	slices.SortFunc(s.Traits, func(a, b Trait) int { return strings.Compare(a.Path, b.Path) })
	// Generation walks the traits with every local $ref already followed.
	s.traits, _ = r.inline(s.traits, 0).(node)
	return s, nil
}

// PasswordIdentifiers are the traits a password login accepts as identifier.
func (s *Schema) PasswordIdentifiers() []Trait {
	return s.filter(func(t Trait) bool { return t.PasswordIdentifier })
}

// VerifiedEmail is the trait Kratos verifies by email (the address mails go to), if any.
func (s *Schema) VerifiedEmail() (Trait, bool) {
	return s.first(func(t Trait) bool { return t.VerificationVia == "email" })
}

// RecoveryEmail is the trait Kratos recovers by email, if any.
func (s *Schema) RecoveryEmail() (Trait, bool) {
	return s.first(func(t Trait) bool { return t.RecoveryVia == "email" })
}

// RequiredTraits are the traits a registration cannot omit.
func (s *Schema) RequiredTraits() []Trait { return s.filter(func(t Trait) bool { return t.Required }) }

func (s *Schema) filter(keep func(Trait) bool) []Trait {
	var out []Trait
	for _, t := range s.Traits {
		if keep(t) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Schema) first(keep func(Trait) bool) (Trait, bool) {
	if ts := s.filter(keep); len(ts) > 0 {
		return ts[0], true
	}
	return Trait{}, false
}

// Describe is one line for reports: which traits play which role.
func (s *Schema) Describe() string {
	var ids, req []string
	for _, t := range s.PasswordIdentifiers() {
		ids = append(ids, t.Path)
	}
	for _, t := range s.RequiredTraits() {
		req = append(req, t.Path)
	}
	mail := "none"
	if t, ok := s.VerifiedEmail(); ok {
		mail = t.Path
	}
	return fmt.Sprintf("schema %q: password identifier %s, verified email %s, required %s",
		s.ID, orNone(ids), mail, orNone(req))
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// Fetch reads the schema id from the public API (GET /schemas/{id}).
func Fetch(ctx context.Context, client *http.Client, public *url.URL, id string) (*Schema, error) {
	raw, err := get(ctx, client, public.JoinPath("schemas", id).String())
	if err != nil {
		return nil, fmt.Errorf("identity schema %q: %w", id, err)
	}
	return Parse(id, raw)
}

// DefaultID finds the schema new identities get when the deployment's config
// does not say: the only one GET /schemas lists, or the one called "default".
func DefaultID(ctx context.Context, client *http.Client, public *url.URL) (string, error) {
	raw, err := get(ctx, client, public.JoinPath("schemas").String())
	if err != nil {
		return "", err
	}
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("GET /schemas did not answer a list: %w", err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
		if s.ID == "default" {
			return s.ID, nil
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return "", fmt.Errorf("the deployment serves the identity schemas %v and none is called default; name the one registrations use (identity_schema in the target file, or -kc.identity-schema)", ids)
}

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %d: %.200s", u, resp.StatusCode, body)
	}
	return body, nil
}

// resolver follows local "$ref"s ("#/definitions/x", "#/$defs/x").
type resolver struct{ root node }

// maxDepth stops a recursive schema from recursing for ever.
const maxDepth = 16

func (r resolver) deref(n node) node {
	for range maxDepth {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		target := r.lookup(ref)
		if target == nil {
			return n
		}
		n = target
	}
	return n
}

func (r resolver) lookup(ref string) node {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = r.root
	for _, k := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(k)]
	}
	m, _ := cur.(map[string]any)
	return m
}

// inline returns v with every local $ref replaced by its target.
func (r resolver) inline(v any, depth int) any {
	if depth > maxDepth {
		return node{}
	}
	switch x := v.(type) {
	case map[string]any:
		out := node{}
		for k, sub := range r.deref(x) {
			out[k] = r.inline(sub, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = r.inline(sub, depth+1)
		}
		return out
	}
	return v
}

// leaves walks the traits object down to its non-object values.
func (r resolver) leaves(n node, prefix string, required bool) []Trait {
	n = r.deref(n)
	if typeOf(n) == "object" {
		props, _ := n["properties"].(map[string]any)
		var out []Trait
		for name, sub := range props {
			m, ok := sub.(map[string]any)
			if !ok {
				continue
			}
			out = append(out, r.leaves(m, join(prefix, name), required && slices.Contains(strs(n["required"]), name))...)
		}
		return out
	}
	if typeOf(n) == "array" {
		if items, ok := n["items"].(map[string]any); ok {
			return r.leaves(items, prefix+"[]", required && minItems(n) > 0)
		}
	}
	t := Trait{Path: prefix, Required: required, schema: n}
	if ext, ok := n["ory.sh/kratos"].(map[string]any); ok {
		t.PasswordIdentifier = truthy(ext, "credentials", "password", "identifier")
		t.TOTPAccountName = truthy(ext, "credentials", "totp", "account_name")
		t.VerificationVia, _ = dig(ext, "verification", "via").(string)
		t.RecoveryVia, _ = dig(ext, "recovery", "via").(string)
	}
	return []Trait{t}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func typeOf(n node) string {
	switch t := n["type"].(type) {
	case string:
		return t
	case []any: // ["string", "null"]: the first non-null type
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	if _, ok := n["properties"]; ok {
		return "object"
	}
	return ""
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func truthy(m map[string]any, path ...string) bool {
	b, _ := dig(m, path...).(bool)
	return b
}

func minItems(n node) int {
	f, _ := n["minItems"].(float64)
	return int(f)
}
