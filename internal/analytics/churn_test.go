package analytics

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/clv"
)

// A fit that finds nobody leaving says so; one on customers who do leave
// does not.
func TestChurnCheckSaysWhenNobodyLeaves(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(3, 4))
	orders := func(leave bool) []clv.Transaction {
		var txs []clv.Transaction
		for c := range 300 {
			rate := 0.5 + r.Float64()*2 // orders a month
			at := start.Add(time.Duration(r.Float64() * 90 * 24 * float64(time.Hour)))
			for at.Before(start.AddDate(2, 0, 0)) {
				txs = append(txs, clv.Transaction{Customer: fmt.Sprint(c), At: at, Value: 20})
				if leave && r.Float64() < 0.3 {
					break
				}
				at = at.Add(time.Duration(r.ExpFloat64() / rate * 30 * 24 * float64(time.Hour)))
			}
		}
		return txs
	}
	stay, err := CheckChurn("stayers", orders(false), 90)
	if err != nil {
		t.Fatal(err)
	}
	if stay.Dropout >= MinDropout || stay.Note == "" {
		t.Errorf("customers who never leave: dropout %.4f, note %q", stay.Dropout, stay.Note)
	}
	gone, err := CheckChurn("leavers", orders(true), 90)
	if err != nil {
		t.Fatal(err)
	}
	if gone.Dropout < 0.1 || gone.Note != "" || gone.BestLift < 1 {
		t.Errorf("customers who leave after 30 %% of orders: dropout %.4f, note %q, best lift %.2f", gone.Dropout, gone.Note, gone.BestLift)
	}
}
