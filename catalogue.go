// Package kratosconformance carries the repository files the compiled suite
// needs when it runs outside the repository (the kratos-conformance binary):
// the requirement catalogue and the pinned Kratos' expected failures.
package kratosconformance

import (
	_ "embed"
	"regexp"
)

// ExpectedFailures is expected-failures.yaml: the requirements the pinned Kratos is known to fail.
//
//go:embed expected-failures.yaml
var ExpectedFailures []byte

// Requirements is docs/requirements.md: every requirement id with its source.
//
//go:embed docs/requirements.md
var Requirements []byte

var catalogueRow = regexp.MustCompile(`(?m)^\| ([A-Z]+(?:-[A-Z0-9]+)+) \|`)

// RequirementIDs lists every requirement id of the catalogue, in its order.
func RequirementIDs() []string {
	var ids []string
	for _, m := range catalogueRow.FindAllStringSubmatch(string(Requirements), -1) {
		ids = append(ids, m[1])
	}
	return ids
}
