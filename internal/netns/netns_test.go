package netns

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A server in a fresh network namespace answers through Dialer and not from
// the host's loopback; the namespace is deleted at the end.
func TestDialerAndForwardReachAServerOnlyInsideTheNamespace(t *testing.T) {
	if os.Getenv("KC_NETNS_LISTEN") != "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(l.Addr().String())
		for i := 0; i < 2; i++ {
			c, err := l.Accept()
			if err == nil {
				fmt.Fprintln(c, "inside")
				c.Close()
			}
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	name := fmt.Sprintf("kc-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").Run(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", name, os.Args[0], "-test.run=^TestDialerAndForwardReachAServerOnlyInsideTheNamespace$")
	srv.Env = append(os.Environ(), "KC_NETNS_LISTEN=1")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s answered on the host's loopback too; the test proves nothing", addr)
	}
	c, err := Dialer("/run/netns/"+name)(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line, _ := bufio.NewReader(c).ReadString('\n')
	if strings.TrimSpace(line) != "inside" {
		t.Errorf("read %q through the namespace, want inside", line)
	}

	// Forward relays a host loopback port to the same server.
	local, stop, err := Forward(ctx, "/run/netns/"+name, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	fc, err := net.DialTimeout("tcp", local, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if line, _ := bufio.NewReader(fc).ReadString('\n'); strings.TrimSpace(line) != "inside" {
		t.Errorf("read %q through Forward, want inside", line)
	}
}
