package recommend

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/cxloop/cxloop/internal/shareddata"
)

func ix(pairs ...string) []Interaction {
	var out []Interaction
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Interaction{User: pairs[i], Item: pairs[i+1], Weight: 1})
	}
	return out
}

// Weights of a pair add up; a pair whose total is not positive (bought,
// then returned) is not an interest.
func TestIndex(t *testing.T) {
	list := append(ix("u1", "a", "u1", "a", "u1", "b", "u2", "b"), Interaction{User: "u1", Item: "b", Weight: -1})
	d := Index(list)
	u1 := d.ByUser[d.UserIndex["u1"]]
	if len(u1) != 1 || d.Items[u1[0].Item] != "a" || u1[0].Weight != 2 {
		t.Fatalf("u1: %+v", u1)
	}
	if got := len(d.ByItem[d.ItemIndex["b"]]); got != 1 {
		t.Fatalf("b has %d users", got)
	}
}

// Cosine of the items' user sets: a and b share both their users (1),
// a and c one of two each (½).
func TestItemKNN(t *testing.T) {
	d := Index(ix("u1", "a", "u1", "b", "u2", "a", "u2", "b", "u2", "c", "u3", "c"))
	m := TrainItemKNN(d, 10)
	a, b, c := d.ItemIndex["a"], d.ItemIndex["b"], d.ItemIndex["c"]
	near := m.Near[a]
	if len(near) != 2 || near[0].Item != b || near[0].Sim != 1 || near[1].Item != c || near[1].Sim != 0.5 {
		t.Fatalf("a's neighbours: %+v", near)
	}
	out := make([]float32, len(d.Items))
	m.Scores(d.UserIndex["u3"], out)
	if out[a] != 0.5 || out[b] != 0.5 || out[c] != 0 {
		t.Fatalf("u3's scores %v", out)
	}
	if m1 := TrainItemKNN(d, 1); len(m1.Near[a]) != 1 {
		t.Fatalf("k = 1 keeps %d", len(m1.Near[a]))
	}
}

// Two groups of users with their own items: the factorisation ranks the
// partner of a user's item above the other group's items.
func TestALS(t *testing.T) {
	d := Index(ix("u1", "a", "u1", "b", "u2", "a", "u2", "b", "u3", "a", "u3", "b",
		"u4", "c", "u4", "d", "u5", "c", "u5", "d", "u6", "c", "u6", "d", "u7", "a"))
	m := TrainALS(d, ALSOptions{Factors: 4, Iterations: 15, Seed: 3})
	out := make([]float32, len(d.Items))
	m.Scores(d.UserIndex["u7"], out)
	b, c, dd := out[d.ItemIndex["b"]], out[d.ItemIndex["c"]], out[d.ItemIndex["d"]]
	if !(b > c && b > dd) {
		t.Fatalf("u7 (has a): b %.3f, c %.3f, d %.3f", b, c, dd)
	}
	p := TrainPopularity(d)
	p.Scores(0, out)
	if out[d.ItemIndex["a"]] != 4 || out[d.ItemIndex["c"]] != 3 {
		t.Fatalf("popularity %v", out)
	}
}

func TestTop(t *testing.T) {
	got := Top([]float32{0.1, 0.9, 0.5, 0.7, 0.3}, 3, func(i int32) bool { return i == 3 })
	if len(got) != 3 || got[0].Item != 1 || got[1].Item != 2 || got[2].Item != 4 {
		t.Fatalf("top %+v", got)
	}
}

// The protocol on a case worked by hand: the latest interaction is held
// out (a tie goes to the larger item id, as a number), a user with nothing
// left to train on is not counted, unknown items score nothing, and ties
// count half.
func TestLeaveLastOut(t *testing.T) {
	list := []Interaction{
		{User: "u1", Item: "1", Weight: 1, At: 1}, {User: "u1", Item: "3", Weight: 1, At: 1}, {User: "u1", Item: "2", Weight: 1, At: 2},
		{User: "u2", Item: "1", Weight: 1, At: 1}, {User: "u2", Item: "2", Weight: 1, At: 1}, {User: "u2", Item: "10", Weight: 1, At: 1},
		{User: "u3", Item: "2", Weight: 1, At: 5},
		{User: "u4", Item: "5", Weight: 1, At: 1}, {User: "u4", Item: "6", Weight: 1, At: 1}, {User: "u4", Item: "7", Weight: 1, At: 3},
	}
	r := LeaveLastOut(list, func(d *Data) Model { return TrainPopularity(d) })[0]
	// u1: item 2 (1 user) ties with 5 and 6 → rank 2; u2 and u4: an unknown item below three → rank 4.
	want := (1/math.Log2(3) + 2/math.Log2(5)) / 3
	if r.Users != 3 || r.HR10 != 1 || math.Abs(r.NDCG10-want) > 1e-12 {
		t.Fatalf("%+v, want NDCG %.4f", r, want)
	}
}

// The evaluation on the shared MovieLens data: the best model beats
// popularity by at least 30% NDCG@10.
func TestMovieLens(t *testing.T) {
	dir := shareddata.Dir(t, "movielens-small")
	list, err := ReadMovieLens(filepath.Join(dir, "ratings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res := LeaveLastOut(list, Standard()...)
	best := res[1]
	for _, r := range res[2:] {
		if r.NDCG10 > best.NDCG10 {
			best = r
		}
	}
	t.Logf("%+v", res)
	if res[0].Name != "popularity" || res[0].Users != 610 || best.NDCG10 < 1.3*res[0].NDCG10 {
		t.Fatalf("best %s NDCG@10 %.4f against popularity %.4f", best.Name, best.NDCG10, res[0].NDCG10)
	}
	// The sequence model reaches NDCG@10 0.060 (1.5 × EASE's 0.040 on this
	// split) and trains in under 10 s; its settings were chosen on the
	// validation split, where it leads too.
	seq := res[3]
	if seq.Name != "sequence" || seq.NDCG10 < 0.060 || seq.TrainSeconds > 10 {
		t.Errorf("sequence: %+v", seq)
	}
	// EASE, the reference, solved on the 2,000 most popular items, reads
	// about its whole-catalogue 0.040; the sequence model is 1.5 × it.
	ease := LeaveLastOut(list, func(d *Data) Model { return TrainEASE(d, 200, EASEItems) })[0]
	t.Logf("%+v", ease)
	if ease.NDCG10 < 0.036 || seq.NDCG10 < 1.5*ease.NDCG10 {
		t.Errorf("EASE %+v against the sequence model %.4f", ease, seq.NDCG10)
	}
	val := Validation(list, Standard()...)
	for _, r := range val[:3] {
		if r.NDCG10 >= val[3].NDCG10 {
			t.Errorf("on validation %s (%.4f) is level with the sequence model (%.4f)", r.Name, r.NDCG10, val[3].NDCG10)
		}
	}
}

// sharedData finds a data set in the shared folder beside the project
// (../shared/data seen from the project root, or CXLOOP_SHARED_DATA).

// Successors by hand: a is followed by b one step later twice (u1, u2)
// and by c two steps later once (u1, weight 1/√2); a user whose latest is
// a gets b first, then c; an earlier item adds with the decay.
func TestSequence(t *testing.T) {
	at := func(user, item string, ts int64) Interaction {
		return Interaction{User: user, Item: item, Weight: 1, At: ts}
	}
	d := Index([]Interaction{at("u1", "a", 1), at("u1", "b", 2), at("u1", "c", 3), at("u2", "a", 5), at("u2", "b", 6),
		at("u3", "c", 1), at("u3", "a", 2), at("u4", "b", 1), at("u4", "x", 1), at("u4", "b", 0)})
	a, b, c := d.ItemIndex["a"], d.ItemIndex["b"], d.ItemIndex["c"]
	if h := d.History[d.UserIndex["u1"]]; len(h) != 3 || h[0] != a || h[2] != c {
		t.Fatalf("u1's history %v", h)
	}
	// u4's two b's and x: b at 0, then b and x at 1 (ties by id: b before x).
	if h := d.History[d.UserIndex["u4"]]; len(h) != 3 || d.Items[h[0]] != "b" || d.Items[h[1]] != "b" || d.Items[h[2]] != "x" {
		t.Fatalf("u4's history %v", h)
	}
	m := TrainSequence(d, SequenceOptions{Window: 2, Gap: 0.5, Recent: 2, Decay: 0.5})
	total := float32(2 + 1/math.Sqrt2)
	next := m.Next[a]
	if len(next) != 2 || next[0].Item != b || math.Abs(float64(next[0].Sim-2/total)) > 1e-6 || next[1].Item != c {
		t.Fatalf("a's successors %+v", next)
	}
	out := make([]float32, len(d.Items))
	m.Scores(d.UserIndex["u3"], out) // latest a (weight 1), then c (0.5): c → a once
	if math.Abs(float64(out[b]-2/total)) > 1e-6 || math.Abs(float64(out[c]-(1/math.Sqrt2)/total)) > 1e-6 || math.Abs(float64(out[a]-0.5)) > 1e-6 {
		t.Fatalf("u3's scores a %.4f b %.4f c %.4f", out[a], out[b], out[c])
	}
}

// EASE on a hand-made case: a and b always go together, c with d; a user
// with a gets b first, and nothing outside the items solved on.
func TestEASE(t *testing.T) {
	d := Index(ix("u1", "a", "u1", "b", "u2", "a", "u2", "b", "u3", "a", "u3", "b", "u4", "c", "u4", "d", "u5", "c", "u5", "d", "u6", "a", "u7", "e"))
	m := TrainEASE(d, 1, 4) // e, the least popular, is left out
	if m.Name() != "ease-4" {
		t.Fatalf("name %s", m.Name())
	}
	out := make([]float32, len(d.Items))
	m.Scores(d.UserIndex["u6"], out)
	a, b, c, e := out[d.ItemIndex["a"]], out[d.ItemIndex["b"]], out[d.ItemIndex["c"]], out[d.ItemIndex["e"]]
	if !(b > c && b > 0 && a == 0 && e == 0) {
		t.Fatalf("u6 (has a): a %.3f b %.3f c %.3f e %.3f", a, b, c, e)
	}
}
