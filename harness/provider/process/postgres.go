package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"kratos-conformance/internal/wait"

	"github.com/jackc/pgx/v5"

	"kratos-conformance/harness"
)

const postgresUser = "kratos"

// postgresBinDir finds initdb and postgres: the flag, then PATH, then the
// newest Debian server package.
func postgresBinDir(flagValue string) (string, error) {
	candidates := []string{}
	if flagValue != "" {
		candidates = append(candidates, flagValue)
	} else {
		if p, err := exec.LookPath("initdb"); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
		debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(debian, func(i, j int) bool { return versionOfDir(debian[i]) > versionOfDir(debian[j]) })
		candidates = append(candidates, debian...)
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	if flagValue != "" {
		return "", fmt.Errorf("-kc.postgres-bin-dir=%s has no initdb and postgres executables", flagValue)
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin: run `make deps` (as root; Debian: apt-get install -y postgresql) or pass -kc.postgres-bin-dir")
}

func versionOfDir(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// startPostgres makes a fresh cluster in dir, starts it on a free loopback
// port with password authentication, and creates the Kratos database.
func (s *Stack) startPostgres(ctx context.Context) error {
	binDir := s.postgresDir
	runAs, err := unprivileged()
	if err != nil {
		return err
	}
	dir := filepath.Join(s.tmp, "postgres")
	data := filepath.Join(dir, "data")
	pwFile := filepath.Join(dir, "password")
	password := s.secrets.postgres
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	if runAs != nil {
		for _, p := range []string{dir, pwFile} {
			if err := os.Chown(p, int(runAs.Uid), int(runAs.Gid)); err != nil {
				return fmt.Errorf("hand %s to the Postgres user: %w", p, err)
			}
		}
	}
	logPath := s.logPath(harness.ComponentPostgres)
	initdb := procInput{
		Name: "initdb", Path: filepath.Join(binDir, "initdb"), LogPath: logPath, RunAs: runAs,
		Args: []string{"-D", data, "-U", postgresUser, "--pwfile", pwFile, "--auth", "scram-sha-256",
			"-E", "UTF8", "--locale", "C", "--no-sync", "--no-instructions"},
	}
	if err := runStep(ctx, initdb, s.cfg.Intervals.ProcessStep); err != nil {
		return err
	}
	port, err := harness.FreePort()
	if err != nil {
		return err
	}
	server := procInput{
		Name: harness.ComponentPostgres, Path: filepath.Join(binDir, "postgres"), LogPath: logPath, RunAs: runAs, Keep: s.cfg.Keep, StopSignal: syscall.SIGINT,
		Args: []string{"-D", data, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories=" + dir},
	}
	s.record(server)
	admin := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", postgresUser, password, port)
	// Named wait: the server answers only after recovery and start-up, which
	// takes a moment after the process exists.
	err = s.start(ctx, server, func(ctx context.Context, p *proc, _ int64) error {
		return wait.For(ctx, wait.Input{
			Name: "Postgres accepting connections", Timeout: s.cfg.Intervals.PostgresReady, Interval: s.cfg.Intervals.Poll,
			Alive: p.exited,
			Check: func(ctx context.Context) error {
				conn, err := pgx.Connect(ctx, admin)
				if err != nil {
					return err
				}
				return conn.Close(ctx)
			},
		})
	})
	if err != nil {
		return err
	}
	version, err := harness.CheckPostgresVersion(ctx, admin)
	if err != nil {
		return err
	}
	s.env.PostgresVersion = version
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE kratos"); err != nil {
		return fmt.Errorf("create the kratos database: %w", err)
	}
	s.endpoints.PostgresDSN = fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/kratos?sslmode=disable", postgresUser, password, port)
	return nil
}
