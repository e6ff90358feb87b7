// Package benchkit is what cxloop's benchmark programs share: the machine's
// description, percentiles, a throwaway PostgreSQL and fatal errors.
package benchkit

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for database/sql
)

// Machine describes where the figures were measured: date, cores, CPU, RAM, Go.
func Machine() string {
	return fmt.Sprintf("%s, %d cores (%s), %s, Go %s", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), cpuModel(), memTotal(),
		strings.TrimPrefix(runtime.Version(), "go"))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			return strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%d GiB RAM", (kb+512*1024)/(1024*1024))
		}
	}
	return "unknown RAM"
}

// Pct is the p-th percentile of d, rounded for printing.
func Pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "n/a"
	}
	return Percentile(d, p).Round(10 * time.Microsecond).String()
}

// Percentile is the p-th percentile of d.
func Percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

// Postgres returns the admin URL of a PostgreSQL server: admin when given,
// else a throwaway one started with scripts/postgres on port (stop it with
// the returned function). Run from the repository root.
func Postgres(admin, port string) (string, func()) {
	if admin != "" {
		return admin, func() {}
	}
	// Its own folder: the server runs as the postgres user.
	dir, err := os.MkdirTemp("", "cxloop-bench-pg")
	Check(err)
	out, err := exec.Command("scripts/postgres", "start", dir, port).Output()
	if err != nil {
		Fail("start postgres: %v", err)
	}
	return strings.TrimSpace(string(out)), func() {
		_ = exec.Command("scripts/postgres", "stop", dir).Run()
		os.RemoveAll(dir)
	}
}

// FreshDatabase creates an empty database on the server admin points at
// and returns its URL.
func FreshDatabase(admin string) string {
	db, err := sql.Open("pgx", admin)
	Check(err)
	defer db.Close()
	name := fmt.Sprintf("cxbench_%d", time.Now().UnixNano())
	_, err = db.Exec(`CREATE DATABASE ` + name)
	Check(err)
	u, err := url.Parse(admin)
	Check(err)
	u.Path = "/" + name
	return u.String()
}

// Check ends the program on err.
func Check(err error) {
	if err != nil {
		Fail("%v", err)
	}
}

// Fail prints the message and ends the program.
func Fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
