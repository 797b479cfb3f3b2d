// Package all links every provider into a binary: each registers itself with
// harness.RegisterProvider from init, like database/sql drivers.
package all

import (
	_ "kratos-conformance/harness/provider/containers"
	_ "kratos-conformance/harness/provider/external"
	_ "kratos-conformance/harness/provider/kubernetes"
	_ "kratos-conformance/harness/provider/process"
	_ "kratos-conformance/kind/provider"
)
