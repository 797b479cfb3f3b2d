package process

import (
	"fmt"
	"net"
	"strconv"
)

// freePort asks the kernel for an unused loopback port. Another program could
// take it before the component binds it; the component's readiness wait then
// fails with its log, which names the port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portOrFree returns the user's port, checked to be free, or a free one.
func portOrFree(port int, flagName string) (int, error) {
	if port == 0 {
		return freePort()
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d (-kc.%s) is in use by another program: stop it, or pass -kc.%s=0 to pick a free port", port, flagName, flagName)
	}
	l.Close()
	return port, nil
}
