// Package kratosconformance carries the repository files the compiled suite
// needs when it runs outside the repository (the kratos-conformance binary):
// the requirement catalogue and the pinned Kratos' expected failures.
package kratosconformance

import _ "embed"

// ExpectedFailures is expected-failures.yaml: the requirements the pinned Kratos is known to fail.
//
//go:embed expected-failures.yaml
var ExpectedFailures []byte

// Requirements is docs/requirements.md: every requirement id with its source.
//
//go:embed docs/requirements.md
var Requirements []byte
