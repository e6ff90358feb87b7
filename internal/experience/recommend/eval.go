package recommend

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Result is a model's offline accuracy: hit rate and NDCG at 10, the
// share of the items that make some user's top 10 (coverage) and the
// seconds the model took to train.
type Result struct {
	Name         string  `json:"name"`
	HR10         float64 `json:"hr10"`
	NDCG10       float64 `json:"ndcg10"`
	Users        int     `json:"users"`
	Coverage     float64 `json:"coverage"`
	TrainSeconds float64 `json:"trainSeconds"`
}

// Trainer builds a model from training data.
type Trainer func(*Data) Model

// LeaveLastOut evaluates models the way the protocol says: per
// user the latest interaction (ties: the larger item id, compared as
// numbers when both are) is held out, the model trains on the rest, and
// the held-out item is ranked against every item the user has not
// interacted with in training. A tie in score counts half (the expected
// rank among equals). HR@10 is the share ranked in the top 10; NDCG@10
// adds 1/log2(rank+1) for those.
func LeaveLastOut(list []Interaction, trainers ...Trainer) []Result {
	last := latest(list) // user → index of the held-out interaction
	held := make([]bool, len(list))
	for _, i := range last {
		held[i] = true
	}
	train := make([]Interaction, 0, len(list)-len(last))
	for i, x := range list {
		if !held[i] {
			train = append(train, x)
		}
	}
	d := Index(train)
	users := make([]string, 0, len(last))
	for u := range last {
		users = append(users, u)
	}
	slices.Sort(users)
	var out []Result
	scores := make([]float32, len(d.Items))
	for _, tr := range trainers {
		began := time.Now()
		m := tr(d)
		r := Result{Name: m.Name(), TrainSeconds: time.Since(began).Seconds()}
		covered := make([]bool, len(d.Items))
		for _, user := range users {
			u, ok := d.UserIndex[user]
			if !ok {
				continue // nothing to train on for this user
			}
			r.Users++
			target, known := d.ItemIndex[list[last[user]].Item]
			m.Scores(u, scores)
			for _, x := range Top(scores, 10, func(i int32) bool { return d.Seen(u, i) }) {
				covered[x.Item] = true
			}
			var s float32
			if known {
				s = scores[target]
			}
			higher, ties := 0, 0
			for i, v := range scores {
				if (known && int32(i) == target) || d.Seen(u, int32(i)) {
					continue
				}
				if v > s {
					higher++
				} else if v == s {
					ties++
				}
			}
			rank := 1 + float64(higher) + float64(ties)/2
			if rank <= 10 {
				r.HR10++
				r.NDCG10 += 1 / math.Log2(rank+1)
			}
		}
		if r.Users > 0 {
			r.HR10 /= float64(r.Users)
			r.NDCG10 /= float64(r.Users)
		}
		for _, c := range covered {
			if c {
				r.Coverage++
			}
		}
		r.Coverage /= float64(max(len(covered), 1))
		out = append(out, r)
	}
	return out
}

// Validation evaluates models as LeaveLastOut does with each user's latest
// interaction left out altogether: the second-to-last is held out. Model
// settings are chosen here, so that the test (the latest) stays unseen.
func Validation(list []Interaction, trainers ...Trainer) []Result {
	last := latest(list)
	rest := make([]Interaction, 0, len(list))
	for i, x := range list {
		if last[x.User] != i {
			rest = append(rest, x)
		}
	}
	return LeaveLastOut(rest, trainers...)
}

// latest is each user's latest interaction (ties: the larger item id).
func latest(list []Interaction) map[string]int {
	last := map[string]int{}
	for i, x := range list {
		j, ok := last[x.User]
		if !ok || x.At > list[j].At || (x.At == list[j].At && itemLess(list[j].Item, x.Item)) {
			last[x.User] = i
		}
	}
	return last
}

// itemLess orders item ids as numbers when both are, else as text.
func itemLess(a, b string) bool {
	na, ea := parseInt(a)
	nb, eb := parseInt(b)
	if ea && eb {
		return na < nb
	}
	return cmp.Less(a, b)
}

func parseInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// Standard are the models cxloop trains: popularity, item-kNN with 30
// neighbours per item, ALS with 16 factors (the settings that did best
// on MovieLens among 16–64 factors and 30–300 neighbours; docs/performance.md),
// and the sequence model (DefaultSequence, chosen on a validation split).
func Standard() []Trainer {
	return []Trainer{
		func(d *Data) Model { return TrainPopularity(d) },
		func(d *Data) Model { return TrainItemKNN(d, 30) },
		func(d *Data) Model { return TrainALS(d, ALSOptions{Factors: 16, Seed: 1}) },
		func(d *Data) Model { return TrainSequence(d, DefaultSequence) },
	}
}

// EASEItems is how many of the most popular items the EASE reference is
// solved on: its cubic solve stays within seconds (2.9 s on MovieLens,
// NDCG@10 0.0393 against 0.0400 for the whole catalogue).
const EASEItems = 2000

// WithReference is Standard with EASE, the reference the evaluation keeps
// beside cxloop's models (not served: its solve grows with the catalogue).
func WithReference() []Trainer {
	return append(Standard(), func(d *Data) Model { return TrainEASE(d, 200, EASEItems) })
}
