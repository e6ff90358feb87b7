package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
)

// schedulePicker is a periodic survey's rhythm as the editor asks for it:
// how often (Freq, every Interval), on which day (Weekday for weekly,
// MonthDay otherwise) and at what time of day (UTC). It writes the RFC 5545
// RRULE the survey keeps; a rule it cannot show is kept as written (Custom).
type schedulePicker struct {
	Freq     string // daily, weekly, monthly, quarterly, custom
	Interval string
	Weekday  string // MO … SU
	MonthDay string // 1 … 28, or -1 for the last day
	Time     string // HH:MM
	Custom   string // the rule as written, when Freq is custom
}

var weekdays = []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}

// rule is the RRULE the picker describes.
func (p schedulePicker) rule() (string, error) {
	if p.Freq == "custom" {
		r := strings.TrimPrefix(strings.TrimSpace(p.Custom), "RRULE:")
		if r == "" {
			return "", fault.Field("schedule.rrule", "write the rule, e.g. FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9")
		}
		return r, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(p.Interval))
	if err != nil || n < 1 || n > 100 {
		return "", fault.Field("schedule.interval", "every how many: a whole number from 1 to 100")
	}
	h, m, ok := clock(p.Time)
	if !ok {
		return "", fault.Field("schedule.time", "the time of day is HH:MM, e.g. 09:00")
	}
	at := fmt.Sprintf(";BYHOUR=%d", h)
	if m != 0 {
		at += fmt.Sprintf(";BYMINUTE=%d", m)
	}
	day := func() (string, error) {
		d, err := strconv.Atoi(strings.TrimSpace(p.MonthDay))
		if err != nil || d == 0 || d < -1 || d > 28 {
			return "", fault.Field("schedule.monthday", "the day of the month is 1 to 28, or the last day")
		}
		return fmt.Sprintf(";BYMONTHDAY=%d", d), nil
	}
	switch p.Freq {
	case "daily":
		return fmt.Sprintf("FREQ=DAILY;INTERVAL=%d%s", n, at), nil
	case "weekly":
		if !slices.Contains(weekdays, p.Weekday) {
			return "", fault.Field("schedule.weekday", "choose the day of the week")
		}
		return fmt.Sprintf("FREQ=WEEKLY;INTERVAL=%d;BYDAY=%s%s", n, p.Weekday, at), nil
	case "monthly", "quarterly":
		d, err := day()
		if err != nil {
			return "", err
		}
		if p.Freq == "quarterly" {
			n *= 3
		}
		return fmt.Sprintf("FREQ=MONTHLY;INTERVAL=%d%s%s", n, d, at), nil
	}
	return "", fault.Field("schedule.freq", "choose how often: daily, weekly, monthly, quarterly or a rule of your own")
}

// clock reads HH:MM.
func clock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	return h, m, found && err1 == nil && err2 == nil && h >= 0 && h < 24 && m >= 0 && m < 60
}

// pickSchedule reads a rule back into the picker. A rule the picker would
// not write back the same (other parts, several days, no time) is shown as
// written, under custom.
func pickSchedule(rule string) schedulePicker {
	custom := schedulePicker{Freq: "custom", Custom: rule, Interval: "1", Weekday: "MO", MonthDay: "1", Time: "09:00"}
	parts := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(strings.TrimSpace(rule), "RRULE:"), ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return custom
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		if _, twice := parts[k]; twice {
			return custom
		}
		parts[k] = strings.ToUpper(strings.TrimSpace(v))
	}
	p := schedulePicker{Interval: "1", Weekday: "MO", MonthDay: "1"}
	if v, ok := parts["INTERVAL"]; ok {
		p.Interval = v
	}
	h, m := parts["BYHOUR"], parts["BYMINUTE"]
	if m == "" {
		m = "0"
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil {
		return custom
	}
	p.Time = fmt.Sprintf("%02d:%02d", hh, mm)
	switch parts["FREQ"] {
	case "DAILY":
		p.Freq = "daily"
	case "WEEKLY":
		p.Freq, p.Weekday = "weekly", parts["BYDAY"]
	case "MONTHLY":
		p.Freq, p.MonthDay = "monthly", parts["BYMONTHDAY"]
		if n, err := strconv.Atoi(p.Interval); err == nil && n%3 == 0 {
			p.Freq, p.Interval = "quarterly", strconv.Itoa(n/3)
		}
	default:
		return custom
	}
	back, err := p.rule()
	if err != nil || !sameRule(back, rule) {
		return custom
	}
	return p
}

// sameRule compares two rules part by part, whatever their order, taking
// a missing INTERVAL for 1 and a missing BYMINUTE for 0.
func sameRule(a, b string) bool {
	norm := func(r string) map[string]string {
		m := map[string]string{"INTERVAL": "1", "BYMINUTE": "0"}
		for _, kv := range strings.Split(strings.TrimPrefix(strings.TrimSpace(r), "RRULE:"), ";") {
			k, v, _ := strings.Cut(kv, "=")
			m[strings.ToUpper(strings.TrimSpace(k))] = strings.ToUpper(strings.TrimSpace(v))
		}
		return m
	}
	x, y := norm(a), norm(b)
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if y[k] != v {
			return false
		}
	}
	return true
}
