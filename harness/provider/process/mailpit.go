package process

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"

	"kratos-conformance/internal/wait"

	"kratos-conformance/harness"
)

// startMailpit runs Mailpit as the courier's SMTP server, with its API on a
// second free loopback port.
func (s *Stack) startMailpit(ctx context.Context) error {
	httpPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	smtpPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	in := procInput{
		Name: harness.ComponentMailpit, Path: s.mailpit.Path, LogPath: s.logPath(harness.ComponentMailpit), Keep: s.cfg.Keep,
		Args: append([]string{"--listen", "127.0.0.1:" + strconv.Itoa(httpPort), "--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
			"--database", filepath.Join(s.tmp, "mailpit.db")}, harness.MailpitFlags...),
	}
	s.record(in)
	s.endpoints.MailpitAPI = &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(httpPort), Path: "/"}
	s.smtpURI = fmt.Sprintf("smtp://127.0.0.1:%d/?disable_starttls=true", smtpPort)
	readyz := s.endpoints.MailpitAPI.JoinPath("readyz").String()
	// Named wait: /readyz answers 200 once both the API and the SMTP listener are up.
	err = s.start(ctx, in, func(ctx context.Context, p *proc, _ int64) error {
		return wait.For(ctx, wait.Input{
			Name: "Mailpit /readyz", Timeout: s.cfg.Intervals.MailpitReady, Interval: s.cfg.Intervals.Poll,
			Alive: p.exited, Check: wait.HTTPStatus(http.DefaultClient, readyz, http.StatusOK),
		})
	})
	return err
}
