package recommend

import (
	"cmp"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// EASE is Steck's (2019) item model with a closed form: item weights B =
// I − P·diag(1 ÷ diag(P)), P = (XᵀX + λI)⁻¹, with the diagonal of B zero;
// a user's score for an item is the sum of its weights from the user's
// items. Inverting the item Gram matrix takes time cubic in the items, so
// it is solved on the Items most popular (an item outside them scores
// nothing): the reference cxloop eval recommend keeps beside its models.
type EASE struct {
	Lambda float64
	Items  int     // the items solved on
	top    []int32 // the items solved on, by their column
	col    []int32 // an item's column, −1 for the others
	b      *mat.Dense
	data   *Data
}

// TrainEASE solves EASE on the items most popular, at most n of them.
func TrainEASE(d *Data, lambda float64, n int) *EASE {
	order := make([]int32, len(d.Items))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(len(d.ByItem[b]), len(d.ByItem[a])) })
	top := order[:min(n, len(order))]
	m := &EASE{Lambda: lambda, Items: len(top), top: top, col: make([]int32, len(d.Items)), data: d}
	for i := range m.col {
		m.col[i] = -1
	}
	for c, i := range top {
		m.col[i] = int32(c)
	}
	k := len(top)
	if k == 0 {
		return m
	}
	// The Gram matrix of the users' (binary) rows on those items.
	g := mat.NewSymDense(k, nil)
	var cols []int
	for _, items := range d.ByUser {
		cols = cols[:0]
		for _, e := range items {
			if c := m.col[e.Item]; c >= 0 {
				cols = append(cols, int(c))
			}
		}
		for a, ca := range cols {
			for _, cb := range cols[a:] {
				i, j := min(ca, cb), max(ca, cb)
				g.SetSym(i, j, g.At(i, j)+1)
			}
		}
	}
	for i := range k {
		g.SetSym(i, i, g.At(i, i)+lambda)
	}
	var ch mat.Cholesky
	p := mat.NewDense(k, k, nil)
	if !ch.Factorize(g) {
		return m
	}
	inv := mat.NewSymDense(k, nil)
	if err := ch.InverseTo(inv); err != nil {
		return m
	}
	for i := range k {
		for j := range k {
			if i != j {
				p.Set(i, j, -inv.At(i, j)/inv.At(j, j))
			}
		}
	}
	m.b = p
	return m
}

// Name is "ease-" and the number of items solved on.
func (m *EASE) Name() string { return "ease-" + strconv.Itoa(m.Items) }

// Scores sums, for each item solved on, its weights from the user's items.
func (m *EASE) Scores(u int32, out []float32) {
	clear(out)
	if m.b == nil {
		return
	}
	for _, e := range m.data.ByUser[u] {
		c := m.col[e.Item]
		if c < 0 {
			continue
		}
		row := m.b.RawRowView(int(c))
		for j, w := range row {
			out[m.top[j]] += float32(w)
		}
	}
}
