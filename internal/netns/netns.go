// Package netns dials from inside another network namespace, so the suite
// reaches a server that listens only there (the private Docker engine's kind
// cluster API) without moving itself or changing the host's network.
package netns

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Dialer returns a DialContext whose connections are made inside the network
// namespace at path (e.g. /run/netns/NAME). A socket keeps the namespace it
// was made in, so the connection works from any goroutine afterwards.
func Dialer(path string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			conn net.Conn
			err  error
		}
		done := make(chan result, 1)
		go func() {
			// The thread is switched for the dial alone; if switching back
			// fails it stays locked, and Go ends it with this goroutine.
			runtime.LockOSThread()
			conn, err := dialIn(ctx, path, network, addr)
			done <- result{conn, err}
		}()
		r := <-done
		return r.conn, r.err
	}
}

func dialIn(ctx context.Context, path, network, addr string) (net.Conn, error) {
	self, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", path, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return conn, err
}

// Forward listens on a free loopback port of this machine and splices every
// connection to target, dialled inside the network namespace at path: a
// plain TCP relay, so what is measured through it is the target, not a
// tunnel. It stops when ctx ends or close is called.
func Forward(ctx context.Context, path, target string) (addr string, close func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	dial := Dialer(path)
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := dial(ctx, "tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(out, in); closeWrite(out); done <- struct{}{} }()
				go func() { io.Copy(in, out); closeWrite(in); done <- struct{}{} }()
				<-done
				<-done
			}()
		}
	}()
	return l.Addr().String(), cancel, nil
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
