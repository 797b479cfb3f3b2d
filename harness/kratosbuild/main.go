// Command kratos is Ory Kratos built from the Go module proxy at the version
// pinned in this folder's go.mod. It lives in its own module so Kratos'
// replace directives never touch the suite's dependency graph.
package main

import (
	"os"

	"github.com/ory/kratos/cmd"
)

func main() { os.Exit(cmd.Execute()) }
