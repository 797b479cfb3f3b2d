package process

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"

	"kratos-conformance/internal/wait"

	"kratos-conformance/harness"
)

// startRedis runs redis-server on a free loopback port with nothing persisted.
// Kratos does not use Redis; the guide's deployment has it, so it is part of the stack.
func (s *Stack) startRedis(ctx context.Context) error {
	bin := s.redisBin
	port, err := harness.FreePort()
	if err != nil {
		return err
	}
	in := procInput{
		Name: harness.ComponentRedis, Path: bin, LogPath: s.logPath(harness.ComponentRedis), Keep: s.cfg.Keep,
		Args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", s.tmp, "--daemonize", "no"},
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// Named wait: redis-server accepts PING only once it has bound its port.
	err = s.start(ctx, in, func(ctx context.Context, p *proc, _ int64) error {
		return wait.For(ctx, wait.Input{
			Name: "Redis answering PING", Timeout: s.cfg.Intervals.RedisReady, Interval: s.cfg.Intervals.Poll,
			Alive: p.exited,
			Check: func(ctx context.Context) error { _, _, err := harness.RedisVersion(ctx, addr); return err },
		})
	})
	s.record(in)
	if err != nil {
		return err
	}
	if s.env.RedisVersion, err = harness.CheckRedisVersion(ctx, addr); err != nil {
		return err
	}
	s.endpoints.RedisAddr = addr
	return nil
}

// redisBinary is -kc.redis-bin, else redis-server from PATH.
func redisBinary(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server is not installed: run `make deps` (as root; Debian: apt-get install -y redis-server) or pass -kc.redis-bin")
	}
	return p, nil
}
