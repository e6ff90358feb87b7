package clv

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Transaction is one purchase of a customer.
type Transaction struct {
	Customer string
	At       time.Time
	Value    float64
}

// ReadCDNOW reads the CDNOW sample (customer_id customer_index date cds
// dollars, whitespace separated; customers are named by the index) or the
// master file (without the index).
func ReadCDNOW(path string) ([]Transaction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Transaction
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 5 && len(fs) != 4 {
			return nil, fmt.Errorf("%s line %d: want customer, [index,] date, cds, dollars", path, line)
		}
		date, dollars := fs[len(fs)-3], fs[len(fs)-1]
		at, err := time.Parse("20060102", date)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: date: %w", path, line, err)
		}
		v, err := strconv.ParseFloat(dollars, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: dollars: %w", path, line, err)
		}
		id := fs[0]
		if len(fs) == 5 {
			id = fs[1] // the sample's own index, 0001…2357
		}
		out = append(out, Transaction{Customer: id, At: at, Value: v})
	}
	return out, sc.Err()
}

// Week is the time unit of the CDNOW analyses.
const Week = 7 * 24 * time.Hour

// Summarise turns transactions into each customer's calibration history
// up to calEnd (purchases on the same day are one transaction; the first
// is not a repeat), in units of unit, and counts their repeat
// transactions after calEnd up to holdoutEnd. Customers are in order of
// their ids.
func Summarise(txs []Transaction, calEnd, holdoutEnd time.Time, unit time.Duration) (ids []string, cs []Customer, holdout []float64) {
	type day struct {
		at    time.Time
		value float64
	}
	by := map[string][]day{}
	for _, t := range txs {
		d := t.At.Truncate(24 * time.Hour)
		list := by[t.Customer]
		if n := len(list); n > 0 && list[n-1].at.Equal(d) {
			list[n-1].value += t.Value
		} else {
			list = append(list, day{at: d, value: t.Value})
		}
		by[t.Customer] = list
	}
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	kept := ids[:0]
	for _, id := range ids {
		days := by[id]
		sort.Slice(days, func(i, j int) bool { return days[i].at.Before(days[j].at) })
		first := days[0].at
		if first.After(calEnd) {
			continue // not a customer yet in the calibration period
		}
		c := Customer{T: float64(calEnd.Sub(first)) / float64(unit)}
		var after float64
		sum := 0.0
		for _, d := range days[1:] {
			switch {
			case !d.at.After(calEnd):
				c.X++
				c.Tx = float64(d.at.Sub(first)) / float64(unit)
				sum += d.value
			case !d.at.After(holdoutEnd):
				after++
			}
		}
		if c.X > 0 {
			c.M = sum / c.X
		}
		kept = append(kept, id)
		cs = append(cs, c)
		holdout = append(holdout, after)
	}
	return kept, cs, holdout
}
