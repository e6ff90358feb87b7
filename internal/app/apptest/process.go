package apptest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"time"
)

// Process is a cxloop binary running as a process of its own, for tests
// and benchmarks that kill it, restart it or measure its memory.
type Process struct {
	Cmd *exec.Cmd
	URL string
}

var consoleLine = regexp.MustCompile(`console:\s+(http://\S+)/`)

// Serve runs `bin serve --db dsn --addr 127.0.0.1:0 args…` with WriteKey
// and Token as its first-start write key and admin token, and waits until it
// prints its console URL. Its log goes to stderr.
func Serve(bin, dsn string, stderr io.Writer, args ...string) (*Process, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "CXLOOP_BOOTSTRAP_WRITE_KEY="+WriteKey, "CXLOOP_BOOTSTRAP_TOKEN="+Token)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := consoleLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case url := <-found:
		return &Process{Cmd: cmd, URL: url}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("cxloop did not start within 30 s")
	}
}

// Stop kills the process and waits for it.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}
