// Package recommend trains recommendation models from implicit feedback —
// who viewed, added, bought or rated what — and ranks items for a customer
// or similar to an item: popularity (for cold start), item-based nearest
// neighbours, and an implicit-feedback matrix factorisation (alternating
// least squares with confidence weights, Hu, Koren & Volinsky 2008).
//
// It knows nothing of the store: the experience package feeds it
// interactions and keeps the trained model.
package recommend

import (
	"cmp"
	"slices"
)

// Interaction is one signal: a user's interest in an item, with a weight
// (a purchase weighs more than a view; a return is negative) and a time.
type Interaction struct {
	User, Item string
	Weight     float64
	At         int64
}

// Entry is an item of a user's history with its summed weight.
type Entry struct {
	Item   int32
	Weight float32
}

// Data is interactions indexed: users and items by number, each user's
// items (positive weights only) and each item's users.
type Data struct {
	Users, Items []string
	UserIndex    map[string]int32
	ItemIndex    map[string]int32
	ByUser       [][]Entry // sorted by item
	ByItem       [][]int32 // users, sorted
	// History is each user's positive interactions in time order (ties:
	// item ids in the order LeaveLastOut breaks them), one entry each.
	History [][]int32
}

// Index builds Data from interactions; weights of a user and item add up,
// and pairs whose total is not positive (viewed, then returned) drop out.
func Index(list []Interaction) *Data {
	d := &Data{UserIndex: map[string]int32{}, ItemIndex: map[string]int32{}}
	type key struct{ u, i int32 }
	sum := map[key]float64{}
	type step struct {
		item int32
		at   int64
	}
	var steps [][]step
	for _, x := range list {
		u, ok := d.UserIndex[x.User]
		if !ok {
			u = int32(len(d.Users))
			d.UserIndex[x.User] = u
			d.Users = append(d.Users, x.User)
		}
		i, ok := d.ItemIndex[x.Item]
		if !ok {
			i = int32(len(d.Items))
			d.ItemIndex[x.Item] = i
			d.Items = append(d.Items, x.Item)
		}
		sum[key{u, i}] += x.Weight
		if x.Weight > 0 {
			for int(u) >= len(steps) {
				steps = append(steps, nil)
			}
			steps[u] = append(steps[u], step{i, x.At})
		}
	}
	d.History = make([][]int32, len(d.Users))
	for u, st := range steps {
		slices.SortStableFunc(st, func(a, b step) int {
			if a.at != b.at {
				return cmp.Compare(a.at, b.at)
			}
			if itemLess(d.Items[a.item], d.Items[b.item]) {
				return -1
			}
			if itemLess(d.Items[b.item], d.Items[a.item]) {
				return 1
			}
			return 0
		})
		h := make([]int32, len(st))
		for k, x := range st {
			h[k] = x.item
		}
		d.History[u] = h
	}
	d.ByUser = make([][]Entry, len(d.Users))
	d.ByItem = make([][]int32, len(d.Items))
	for k, w := range sum {
		if w > 0 {
			d.ByUser[k.u] = append(d.ByUser[k.u], Entry{Item: k.i, Weight: float32(w)})
			d.ByItem[k.i] = append(d.ByItem[k.i], k.u)
		}
	}
	for u := range d.ByUser {
		slices.SortFunc(d.ByUser[u], func(a, b Entry) int { return cmp.Compare(a.Item, b.Item) })
	}
	for i := range d.ByItem {
		slices.Sort(d.ByItem[i])
	}
	return d
}

// Model ranks items for users it was trained on.
type Model interface {
	Name() string
	// Scores writes a score for every item into out (len = number of
	// items) for user u; higher is better.
	Scores(u int32, out []float32)
}

// Scored is an item and its score.
type Scored struct {
	Item  int32
	Score float32
}

// Top returns the n best-scored items, skipping those skip says to.
func Top(scores []float32, n int, skip func(int32) bool) []Scored {
	out := make([]Scored, 0, n+1)
	for i, s := range scores {
		if skip != nil && skip(int32(i)) {
			continue
		}
		if len(out) == n && s <= out[n-1].Score {
			continue
		}
		at, _ := slices.BinarySearchFunc(out, s, func(x Scored, s float32) int { return cmp.Compare(s, x.Score) })
		out = slices.Insert(out, at, Scored{Item: int32(i), Score: s})
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}

// Seen reports whether user u has item i in the training data.
func (d *Data) Seen(u, i int32) bool {
	_, ok := slices.BinarySearchFunc(d.ByUser[u], i, func(e Entry, i int32) int { return cmp.Compare(e.Item, i) })
	return ok
}
