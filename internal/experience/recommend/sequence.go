package recommend

import (
	"cmp"
	"math"
	"slices"
)

// Sequence scores an item by how often it came soon after the items a
// user had last, in other users' histories: what people go on to next.
// Training counts, for every pair of a user's interactions at most Window
// apart in their history, the later item as a successor of the earlier,
// weighted 1/gap^Gap, and keeps each item's successors normalised to sum
// to 1. A user's score for an item is the sum, over their Recent latest
// items (the latest weighing 1, each earlier Decay times the one after),
// of the item's share among that item's successors.
type Sequence struct {
	Next [][]Neighbour // by item, most frequent successor first
	o    SequenceOptions
	data *Data
}

// SequenceOptions shape the sequence model. DefaultSequence holds the
// settings chosen on MovieLens's validation split (each user's
// second-to-last interaction held out, never the last: docs/performance.md).
type SequenceOptions struct {
	Window  int     // how many later interactions count as successors
	Gap     float64 // a successor k steps later weighs 1/k^Gap
	Recent  int     // how many of a user's latest items score
	Decay   float64 // each earlier recent item weighs Decay times the next
	MaxNext int     // successors kept per item (0: all)
}

// DefaultSequence is the sequence model cxloop trains.
var DefaultSequence = SequenceOptions{Window: 30, Gap: 0.5, Recent: 30, Decay: 0.6, MaxNext: 500}

// TrainSequence counts every item's successors in the users' histories.
func TrainSequence(d *Data, o SequenceOptions) *Sequence {
	n := len(d.Items)
	m := &Sequence{Next: make([][]Neighbour, n), o: o, data: d}
	weight := make([]float32, o.Window+1)
	for k := 1; k <= o.Window; k++ {
		weight[k] = float32(1 / math.Pow(float64(k), o.Gap))
	}
	// Successors of each item, gathered per item through a dense row
	// reused item by item: first the pairs, grouped by their earlier item.
	type pair struct {
		next int32
		w    float32
	}
	byItem := make([][]pair, n)
	for _, h := range d.History {
		for p, j := range h {
			for q := p + 1; q < len(h) && q-p <= o.Window; q++ {
				if h[q] != j {
					byItem[j] = append(byItem[j], pair{h[q], weight[q-p]})
				}
			}
		}
	}
	row := make([]float32, n)
	var touched []int32
	for j, pairs := range byItem {
		var total float32
		for _, x := range pairs {
			if row[x.next] == 0 {
				touched = append(touched, x.next)
			}
			row[x.next] += x.w
			total += x.w
		}
		next := make([]Neighbour, 0, len(touched))
		for _, i := range touched {
			next = append(next, Neighbour{Item: i, Sim: row[i] / total})
			row[i] = 0
		}
		touched = touched[:0]
		slices.SortFunc(next, func(a, b Neighbour) int {
			if c := cmp.Compare(b.Sim, a.Sim); c != 0 {
				return c
			}
			return cmp.Compare(a.Item, b.Item)
		})
		if o.MaxNext > 0 && len(next) > o.MaxNext {
			next = slices.Clip(next[:o.MaxNext])
		}
		m.Next[j] = next
		byItem[j] = nil
	}
	return m
}

func (*Sequence) Name() string { return "sequence" }

// Scores adds up the successors of the user's latest items.
func (m *Sequence) Scores(u int32, out []float32) {
	clear(out)
	h := m.data.History[u]
	w := float32(1)
	for k := 0; k < m.o.Recent && k < len(h); k++ {
		for _, nb := range m.Next[h[len(h)-1-k]] {
			out[nb.Item] += w * nb.Sim
		}
		w *= float32(m.o.Decay)
	}
}
