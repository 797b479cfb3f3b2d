package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The deployment guide requires Postgres > v13.0 and Redis > v6.0.
const (
	MinPostgresMajor = 14
	MinRedisMajor    = 7
)

// PostgresVersion connects with dsn and returns the server version
// ("15.18") and its major number.
func PostgresVersion(ctx context.Context, dsn string) (string, int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var version string
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('server_version_num')::int").Scan(&version, &num); err != nil {
		return "", 0, fmt.Errorf("read Postgres server_version: %w", err)
	}
	return strings.Fields(version)[0], num / 10000, nil
}

// CheckPostgresVersion fails unless the server is newer than 13, as the guide requires.
func CheckPostgresVersion(ctx context.Context, dsn string) (string, error) {
	version, major, err := PostgresVersion(ctx, dsn)
	if err != nil {
		return "", err
	}
	if major < MinPostgresMajor {
		return version, fmt.Errorf("Postgres %s is too old: the deployment guide requires Postgres > 13; install a newer server (Debian: apt-get install -y postgresql) or point -kc.postgres-bin-dir at one", version)
	}
	return version, nil
}

// RedisVersion PINGs the Redis at addr and returns redis_version from INFO server.
func RedisVersion(ctx context.Context, addr string) (string, int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", 0, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	}
	r := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return "", 0, err
	}
	if line, err := r.ReadString('\n'); err != nil || strings.TrimSpace(line) != "+PONG" {
		return "", 0, fmt.Errorf("redis at %s did not answer PING with +PONG (got %q, %v)", addr, line, err)
	}
	if _, err := conn.Write([]byte("INFO server\r\n")); err != nil {
		return "", 0, err
	}
	header, err := r.ReadString('\n') // $<length> of the bulk string
	if err != nil || !strings.HasPrefix(header, "$") {
		return "", 0, fmt.Errorf("redis at %s: unexpected INFO reply %q", addr, header)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", 0, fmt.Errorf("redis at %s: INFO has no redis_version", addr)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
			return v, major, nil
		}
	}
}

// CheckRedisVersion fails unless Redis is newer than 6, as the guide requires.
func CheckRedisVersion(ctx context.Context, addr string) (string, error) {
	version, major, err := RedisVersion(ctx, addr)
	if err != nil {
		return "", err
	}
	if major < MinRedisMajor {
		return version, fmt.Errorf("Redis %s is too old: the deployment guide requires Redis > 6; install a newer one (Debian: apt-get install -y redis-server) or pass -kc.redis-bin", version)
	}
	return version, nil
}

// KratosVersion asks the admin API which Kratos version runs.
func KratosVersion(ctx context.Context, client *http.Client, admin *url.URL) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin.JoinPath("admin", "version").String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version == "" {
		return "", fmt.Errorf("GET %s answered %d without a version; is -kc.admin-url the Kratos admin API?", req.URL, resp.StatusCode)
	}
	return v.Version, nil
}

// MigrateArgs are the arguments that run a Kratos' SQL migrations with the DSN
// from its config: the guide's `migrate sql -e --yes`, or, from v25 on, where
// that form is deprecated, `migrate sql up -e --yes`. An unknown version gets
// the guide's form, which every version still runs.
func MigrateArgs(kratosVersion string) []string {
	if kratosMajor(kratosVersion) >= 25 {
		return []string{"migrate", "sql", "up", "-e", "--yes"}
	}
	return []string{"migrate", "sql", "-e", "--yes"}
}

// kratosMajor is the major number of a version such as "v26.2.0"; 0 when it is not a release ("master").
func kratosMajor(version string) int {
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil {
		return 0
	}
	return major
}
