package web

import "testing"

func TestSchedulePicker(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    schedulePicker
		rule string
	}{
		{"weekly", schedulePicker{Freq: "weekly", Interval: "2", Weekday: "TH", Time: "14:30"}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=14;BYMINUTE=30"},
		{"monthly", schedulePicker{Freq: "monthly", Interval: "1", MonthDay: "15", Time: "09:00"}, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15;BYHOUR=9"},
		{"quarterly", schedulePicker{Freq: "quarterly", Interval: "1", MonthDay: "1", Time: "09:00"}, "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9"},
		{"last day", schedulePicker{Freq: "monthly", Interval: "5", MonthDay: "-1", Time: "08:05"}, "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=-1;BYHOUR=8;BYMINUTE=5"},
		{"daily", schedulePicker{Freq: "daily", Interval: "1", Time: "23:59"}, "FREQ=DAILY;INTERVAL=1;BYHOUR=23;BYMINUTE=59"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.rule()
			if err != nil || got != tc.rule {
				t.Fatalf("rule %q, %v; want %q", got, err, tc.rule)
			}
			back := pickSchedule(got)
			if back.Freq != tc.p.Freq {
				t.Fatalf("read back as %+v", back)
			}
			if again, _ := back.rule(); again != got {
				t.Fatalf("round trip %q → %q", got, again)
			}
		})
	}
	// Rules the picker would not write back the same stay as written.
	for _, r := range []string{"FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9", "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9", "FREQ=YEARLY;BYMONTH=1", "FREQ=MONTHLY;INTERVAL=3", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYHOUR=10", "nonsense"} {
		if p := pickSchedule(r); p.Freq != "custom" || p.Custom != r {
			t.Errorf("%q read as %+v, want custom", r, p)
		}
	}
	// Written in another order, a rule the picker writes is still read.
	if p := pickSchedule("BYHOUR=9;FREQ=MONTHLY;BYMONTHDAY=1;INTERVAL=3"); p.Freq != "quarterly" || p.Interval != "1" || p.MonthDay != "1" || p.Time != "09:00" {
		t.Errorf("reordered rule read as %+v", p)
	}
	for _, bad := range []schedulePicker{{Freq: "weekly", Interval: "1", Weekday: "XX", Time: "09:00"}, {Freq: "monthly", Interval: "0", MonthDay: "1", Time: "09:00"},
		{Freq: "monthly", Interval: "1", MonthDay: "31", Time: "09:00"}, {Freq: "daily", Interval: "1", Time: "25:00"}, {Freq: "custom"}} {
		if r, err := bad.rule(); err == nil {
			t.Errorf("%+v wrote %q, want an error", bad, r)
		}
	}
}

// Whatever rule is stored, the picker shows it as written or writes it
// back the same.
func FuzzPickSchedule(f *testing.F) {
	for _, s := range []string{"FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=14;BYMINUTE=30", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9",
		"RRULE:FREQ=DAILY;BYHOUR=0", "FREQ=MONTHLY;BYDAY=1MO", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYHOUR=10", "", ";;=", "FREQ=MONTHLY;INTERVAL=-3;BYMONTHDAY=1;BYHOUR=9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		p := pickSchedule(rule)
		if p.Freq == "custom" {
			if p.Custom != rule {
				t.Fatalf("custom %q, stored %q", p.Custom, rule)
			}
			return
		}
		back, err := p.rule()
		if err != nil || !sameRule(back, rule) {
			t.Fatalf("%q read as %+v writes %q, %v", rule, p, back, err)
		}
	})
}
