package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestBlockedAddresses(t *testing.T) {
	for s, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true,
		"192.168.1.1": true, "169.254.169.254": true, "100.64.0.1": true, "0.0.0.0": true, "255.255.255.255": true,
		"224.0.0.1": true, "::1": true, "::": true, "fe80::1": true, "fd00:ec2::254": true, "fc00::1": true,
		"::ffff:127.0.0.1": true, "::ffff:169.254.169.254": true, "64:ff9b::a9fe:a9fe": true, // NAT64 of 169.254.169.254
		"8.8.8.8": false, "172.32.0.1": false, "93.184.216.34": false, "2606:4700::1111": false, "64:ff9b::808:808": false,
	} {
		if got := Blocked(netip.MustParseAddr(s)); got != want {
			t.Errorf("Blocked(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestLegacyIPv4Forms(t *testing.T) {
	for host, want := range map[string]string{
		"2130706433": "127.0.0.1", "0x7f000001": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "127.1": "127.0.0.1",
		"0x7f.1": "127.0.0.1", "169.254.43518": "169.254.169.254", "[::1]": "::1", "10.0.0.1.": "10.0.0.1",
	} {
		a, ok := ParseHostIP(host)
		if !ok || a.String() != want {
			t.Errorf("ParseHostIP(%q) = %v %v, want %s", host, a, ok, want)
		}
	}
	for _, host := range []string{"example.com", "hooks.example", "1.2.3.4.5", "256.1.1.1", "0x1g", "127.0.0.999", ""} {
		if a, ok := ParseHostIP(host); ok {
			t.Errorf("ParseHostIP(%q) = %v, want a name", host, a)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:8080/x", "http://2130706433/", "http://0x7f.1/", "http://[::1]/", "http://[::ffff:7f00:1]/",
		"http://169.254.169.254/latest/meta-data/", "http://localhost/", "http://api.localhost/", "https://10.0.0.5/hook"} {
		if err := CheckURL(ctx, u); !errors.Is(err, ErrBlocked) {
			t.Errorf("CheckURL(%s) = %v, want blocked", u, err)
		}
	}
	// A public address, and a name that does not resolve (here: no DNS), pass.
	for _, u := range []string{"https://93.184.216.34/hook", "https://hooks.invalid/cx"} {
		if err := CheckURL(ctx, u); err != nil {
			t.Errorf("CheckURL(%s) = %v, want accepted", u, err)
		}
	}
}

// The client checks the address it actually dials: a receiver on loopback
// is refused unless private targets are allowed.
func TestClientRefusesInternalConnections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	if _, err := Client(5*time.Second, false).Get(srv.URL); !errors.Is(err, ErrBlocked) {
		t.Fatalf("a loopback receiver: %v, want blocked", err)
	}
	resp, err := Client(5*time.Second, true).Get(srv.URL)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("allowed: %v %v", resp, err)
	}
	resp.Body.Close()
}
