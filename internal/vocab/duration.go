package vocab

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "48h", "30m" or "14d".
type Duration time.Duration

// MarshalJSON writes the duration in the form ParseDuration reads.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatDuration(time.Duration(d)))
}

// UnmarshalJSON reads "48h", "14d" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("a duration is a string such as \"48h\" or \"14d\"")
		}
		*d = Duration(time.Duration(secs * float64(time.Second)))
		return nil
	}
	v, err := ParseDuration(s)
	*d = Duration(v)
	return err
}

// ParseDuration reads Go durations plus whole days ("14d", "2d12h").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	orig := s
	var days time.Duration
	if i := strings.Index(s, "d"); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: use forms like 48h, 30m, 14d or 2d12h", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use forms like 48h, 30m, 14d or 2d12h", orig)
	}
	return days + v, nil
}

// String writes the duration as FormatDuration does.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// FormatDuration writes whole days as "14d" and anything else as Go does.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
