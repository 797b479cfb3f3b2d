package process

import (
	"fmt"
	"net"
	"strconv"

	"kratos-conformance/harness"
)

// portOrFree returns the user's port, checked to be free, or a free one.
func portOrFree(port int, flagName string) (int, error) {
	if port == 0 {
		return harness.FreePort()
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d (-kc.%s) is in use by another program: stop it, or pass -kc.%s=0 to pick a free port", port, flagName, flagName)
	}
	l.Close()
	return port, nil
}
