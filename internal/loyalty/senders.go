package loyalty

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Cell is one quarter of the senders-vs-spenders matrix.
type Cell struct {
	Spend     string  `json:"spend"`    // high or low
	Referral  string  `json:"referral"` // high or low
	Customers int     `json:"customers"`
	Revenue   float64 `json:"revenue"` // own spend plus referred revenue
}

// Advocate is a customer's own spend against the revenue of those they referred.
type Advocate struct {
	Customer        string  `json:"customer"`
	Spend           float64 `json:"spend"`
	ReferredRevenue float64 `json:"referredRevenue"`
	Referred        int     `json:"referred"`
}

// SendersSpenders is the matrix and the senders the program should not overlook.
type SendersSpenders struct {
	Matrix []Cell `json:"matrix"`
	// Thresholds: a customer is a high spender (or sender) from the 75th
	// percentile of those who spent (or referred revenue) at all.
	SpendThreshold     float64    `json:"spendThreshold"`
	ReferralThreshold  float64    `json:"referralThreshold"`
	Spenders           int        `json:"spenders"` // customers who spent at all: the top quarter of them are high spenders
	Senders            int        `json:"senders"`  // customers whose referred customers spent at all: the top quarter of them are high senders
	TopSendersLowSpend []Advocate `json:"top_senders_low_spend"`
	// ReferredRevenue is what all referred customers spent.
	ReferredRevenue float64 `json:"referredRevenue"`
}

// SendersSpenders compares what each customer spent with the revenue of
// the customers who signed up with their referral code.
func (s *Service) SendersSpenders(ctx context.Context) (*SendersSpenders, error) {
	orders, err := s.advocacyOrders(ctx)
	if err != nil {
		return nil, err
	}
	refs, err := s.advocacyReferrals(ctx)
	if err != nil {
		return nil, err
	}
	var ids []eventlog.Event
	for _, o := range orders {
		ids = append(ids, eventlog.Event{UserID: o.user, AnonymousID: o.anon})
	}
	for _, r := range refs {
		ids = append(ids, eventlog.Event{UserID: r.user, AnonymousID: r.anon})
	}
	owners, err := s.profiles.Owners(ctx, ids)
	if err != nil {
		return nil, err
	}
	spend := map[string]float64{}
	for i, o := range orders {
		if c := profile.OwnerOf(owners, ids[i]); c != "" {
			spend[c] += o.total
		}
	}
	friends := make([]string, len(refs)) // who signed up with each referral
	for i := range refs {
		friends[i] = profile.OwnerOf(owners, ids[len(orders)+i])
	}
	referred, err := s.referred(ctx, refs, friends, spend)
	if err != nil {
		return nil, err
	}
	return advocacyMatrix(advocates(spend, referred)), nil
}

// advocacyOrder is an order of the senders-vs-spenders matrix: who placed
// it and its total.
type advocacyOrder struct {
	user, anon string
	total      float64
}

// advocacyOrders sums every order the program knows by who placed it.
func (s *Service) advocacyOrders(ctx context.Context) ([]advocacyOrder, error) {
	var orders []advocacyOrder
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, anonymous_id, SUM(total) FROM loyalty_orders GROUP BY user_id, anonymous_id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var o advocacyOrder
		if err := rows.Scan(&o.user, &o.anon, &o.total); err != nil {
			rows.Close()
			return nil, err
		}
		orders = append(orders, o)
	}
	rows.Close()
	return orders, nil
}

// advocacyReferral is a sign-up with a referral code: the code and who
// signed up.
type advocacyReferral struct{ code, user, anon string }

// advocacyReferrals reads every sign-up that came with a referral code.
func (s *Service) advocacyReferrals(ctx context.Context) ([]advocacyReferral, error) {
	var refs []advocacyReferral
	rows, err := s.db.QueryContext(ctx, `SELECT code, user_id, anonymous_id FROM loyalty_referrals`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r advocacyReferral
		if err := rows.Scan(&r.code, &r.user, &r.anon); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	return refs, nil
}

// referred is, for each sender, the customers who signed up with their
// code: friends holds the customer who signed up with each of refs ("" when
// unknown), and spend the customers who ordered. A customer referring
// themselves counts for nobody.
func (s *Service) referred(ctx context.Context, refs []advocacyReferral, friends []string, spend map[string]float64) (map[string]map[string]bool, error) {
	// Referral codes are derived from customer ids: map each code back.
	byCode := map[string]string{}
	for c := range spend {
		byCode[ReferralCode(c)] = c
	}
	referred := map[string]map[string]bool{} // sender → referred customers
	senders := map[string]string{}           // code → sender: a sender's codes repeat
	for i, r := range refs {
		friend := friends[i]
		sender, ok := senders[r.code]
		if !ok {
			var err error
			if sender, err = s.codeSender(ctx, r.code, byCode); err != nil {
				return nil, err
			}
			senders[r.code] = sender
		}
		if friend == "" || sender == "" || friend == sender {
			continue
		}
		if referred[sender] == nil {
			referred[sender] = map[string]bool{}
		}
		referred[sender][friend] = true
	}
	return referred, nil
}

// codeSender is the customer who sent a referral code ("" when nobody
// known): a customer who ordered (byCode), the customer a "by:" code
// names, or else the customer whose code it is.
func (s *Service) codeSender(ctx context.Context, code string, byCode map[string]string) (string, error) {
	if sender, ok := byCode[code]; ok {
		return sender, nil
	}
	if strings.HasPrefix(code, "by:") {
		sender, err := s.profiles.Resolve(ctx, strings.TrimPrefix(code, "by:"))
		if fault.Code(err) == fault.NotFound {
			return "", nil
		}
		return sender, err
	}
	return s.codeOwner(ctx, code)
}

// advocates is each customer's own spend against the revenue of those they
// referred, both rounded to the cent.
func advocates(spend map[string]float64, referred map[string]map[string]bool) map[string]*Advocate {
	out := map[string]*Advocate{}
	get := func(c string) *Advocate {
		if out[c] == nil {
			out[c] = &Advocate{Customer: c}
		}
		return out[c]
	}
	for c, v := range spend {
		get(c).Spend = v
	}
	for sender, friends := range referred {
		a := get(sender)
		for f := range friends {
			a.ReferredRevenue += spend[f]
			a.Referred++
		}
	}
	for _, a := range out {
		a.Spend, a.ReferredRevenue = math.Round(a.Spend*100)/100, math.Round(a.ReferredRevenue*100)/100
	}
	return out
}

// advocacyMatrix places the advocates in the senders-vs-spenders matrix
// and picks the top senders who spend little themselves (at most 20, the
// most referred revenue first).
func advocacyMatrix(advocates map[string]*Advocate) *SendersSpenders {
	var spends, sends []float64
	var referredTotal float64
	for _, a := range advocates {
		if a.Spend > 0 {
			spends = append(spends, a.Spend)
		}
		if a.ReferredRevenue > 0 {
			sends = append(sends, a.ReferredRevenue)
		}
		referredTotal += a.ReferredRevenue
	}
	out := &SendersSpenders{SpendThreshold: percentile(spends, 75), ReferralThreshold: percentile(sends, 75), Spenders: len(spends), Senders: len(sends), TopSendersLowSpend: []Advocate{},
		ReferredRevenue: math.Round(referredTotal*100) / 100}
	cells := map[[2]string]*Cell{}
	for _, sp := range []string{"high", "low"} {
		for _, rf := range []string{"high", "low"} {
			cells[[2]string{sp, rf}] = &Cell{Spend: sp, Referral: rf}
		}
	}
	level := func(v, threshold float64) string {
		if v > 0 && v >= threshold {
			return "high"
		}
		return "low"
	}
	for _, a := range advocates {
		sp, rf := level(a.Spend, out.SpendThreshold), level(a.ReferredRevenue, out.ReferralThreshold)
		c := cells[[2]string{sp, rf}]
		c.Customers++
		c.Revenue = math.Round((c.Revenue+a.Spend+a.ReferredRevenue)*100) / 100
		if sp == "low" && rf == "high" {
			out.TopSendersLowSpend = append(out.TopSendersLowSpend, *a)
		}
	}
	for _, sp := range []string{"high", "low"} {
		for _, rf := range []string{"high", "low"} {
			out.Matrix = append(out.Matrix, *cells[[2]string{sp, rf}])
		}
	}
	sort.Slice(out.TopSendersLowSpend, func(i, j int) bool {
		return out.TopSendersLowSpend[i].ReferredRevenue > out.TopSendersLowSpend[j].ReferredRevenue
	})
	if len(out.TopSendersLowSpend) > 20 {
		out.TopSendersLowSpend = out.TopSendersLowSpend[:20]
	}
	return out
}

// codeOwner finds the customer whose referral code is code among those who
// never ordered (a slow path: it hashes every customer id).
func (s *Service) codeOwner(ctx context.Context, code string) (string, error) {
	owner := ""
	err := s.profiles.EachCustomer(ctx, func(id string) bool {
		if ReferralCode(id) == code {
			owner = id
			return false
		}
		return true
	})
	return owner, err
}

func percentile(v []float64, p int) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[min(len(v)-1, len(v)*p/100)]
}

// Dashboard is the program at a glance.
type Dashboard struct {
	// Members are the customers the tier review placed in a tier of the
	// program (a merged profile once); ByTier and Tiers count them.
	Members         int              `json:"members"`
	ByTier          map[string]int   `json:"byTier"`
	Tiers           []TierShare      `json:"tiers"`
	Liability       int64            `json:"liability"` // points members hold
	Earned          int64            `json:"earned"`    // net of reversals
	Redeemed        int64            `json:"redeemed"`
	Expired         int64            `json:"expired"`
	RedemptionRate  float64          `json:"redemptionRate"`  // redeemed ÷ earned
	ReferralRevenue float64          `json:"referralRevenue"` // referred customers' orders after their referral, refunds out (Activity's, all time)
	Advocacy        *SendersSpenders `json:"advocacy"`
}

// Dashboard sums up the program: members by tier, the points liability,
// the redemption rate and the revenue referrals brought.
func (s *Service) Dashboard(ctx context.Context) (*Dashboard, error) {
	d := &Dashboard{ByTier: map[string]int{}}
	// The program's activity since it started: the same sums as a period's,
	// and referral revenue by one definition with the period's and the
	// outcomes by month (referred customers' orders after their referral,
	// refunds left out). The four parts read apart, side by side.
	var all *Activity
	var errs [4]error
	var wg sync.WaitGroup
	wg.Go(func() {
		errs[0] = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(points), 0) FROM loyalty_balances`).Scan(&d.Liability)
	})
	wg.Go(func() { all, errs[1] = s.Activity(ctx, time.Time{}, time.Time{}) })
	wg.Go(func() { d.Tiers, errs[2] = s.TierShares(ctx) })
	wg.Go(func() { d.Advocacy, errs[3] = s.SendersSpenders(ctx) })
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	d.Earned, d.Redeemed, d.Expired, d.ReferralRevenue = all.Earned, all.Redeemed, all.Expired, all.ReferralRevenue
	if d.Earned > 0 {
		d.RedemptionRate = math.Round(float64(d.Redeemed)/float64(d.Earned)*1000) / 1000
	}
	for _, t := range d.Tiers {
		d.ByTier[t.Tier] = t.Members
		d.Members += t.Members
	}
	return d, nil
}

// TierShare is how many members a tier holds and their share of all
// members, a fraction from 0 to 1.
type TierShare struct {
	Tier    string  `json:"tier"`
	From    int64   `json:"from"`
	Members int     `json:"members"`
	Share   float64 `json:"share"` // members ÷ all members, 0–1
}

// TierShares counts the members in each tier of the program, in the
// program's order: a member is a customer (not merged into another) whom
// the tier review placed in one of the program's tiers, and a tier's share
// is its members ÷ all members, a fraction 0–1. Without
// members every share is 0.
func (s *Service) TierShares(ctx context.Context) ([]TierShare, error) {
	p, err := s.Program(ctx)
	if err != nil {
		return nil, err
	}
	tiers, err := s.liveTiers(ctx)
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, t := range tiers {
		count[t]++
	}
	out := make([]TierShare, len(p.Tiers))
	all := 0
	for i, t := range p.Tiers {
		out[i] = TierShare{Tier: t.Name, From: t.From, Members: count[t.Name]}
		all += count[t.Name]
	}
	for i := range out {
		if all > 0 {
			out[i].Share = float64(out[i].Members) / float64(all)
		}
	}
	return out, nil
}

// ReferralRevenueByMonth is what referred customers spent (refunds out),
// by calendar month (YYYY-MM, UTC), from since.
func (s *Service) ReferralRevenueByMonth(ctx context.Context, since time.Time) (map[string]float64, error) {
	out := map[string]float64{}
	lo, hi := store.Span(since, time.Time{})
	err := s.referredOrders(ctx, lo, hi, func(total float64, at int64) {
		out[time.UnixMilli(at).UTC().Format("2006-01")] += total
	})
	return out, err
}
