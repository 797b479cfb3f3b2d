//go:build pins

// Package pins keeps the product's required modules in go.mod at the versions
// checked together on this machine (shared/FACTS.md) before the code that uses
// them lands: vegeta (load/, issue 3), testcontainers-go (issue 4) and kind
// (issue 5). The build tag keeps it out of every build; remove each import
// once a real package imports the module.
package pins

import (
	_ "github.com/testcontainers/testcontainers-go"
	_ "github.com/testcontainers/testcontainers-go/modules/postgres"
	_ "github.com/testcontainers/testcontainers-go/modules/redis"
	_ "github.com/tsenart/vegeta/v12/lib"
	_ "sigs.k8s.io/kind/pkg/cluster"
)
