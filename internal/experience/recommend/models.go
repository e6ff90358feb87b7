package recommend

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Popularity ranks items by how many users have them: the answer for a
// customer nothing is known about yet.
type Popularity struct{ count []float32 }

// TrainPopularity counts each item's users.
func TrainPopularity(d *Data) *Popularity {
	p := &Popularity{count: make([]float32, len(d.Items))}
	for i, users := range d.ByItem {
		p.count[i] = float32(len(users))
	}
	return p
}

func (*Popularity) Name() string { return "popularity" }

func (p *Popularity) Scores(_ int32, out []float32) { copy(out, p.count) }

// Neighbour is an item similar to another, with their cosine similarity.
type Neighbour struct {
	Item int32
	Sim  float32
}

// ItemKNN scores an item by its similarity to the items a user has: the
// cosine of the two items' sets of users, keeping each item's K nearest.
type ItemKNN struct {
	Near [][]Neighbour // by item, most similar first
	data *Data
}

// TrainItemKNN finds each item's k nearest neighbours.
func TrainItemKNN(d *Data, k int) *ItemKNN {
	n := len(d.Items)
	m := &ItemKNN{Near: make([][]Neighbour, n), data: d}
	co := make([]float32, n)
	var touched []int32
	for i := range n {
		for _, u := range d.ByItem[i] {
			for _, e := range d.ByUser[u] {
				if e.Item == int32(i) {
					continue
				}
				if co[e.Item] == 0 {
					touched = append(touched, e.Item)
				}
				co[e.Item]++
			}
		}
		ni := float64(len(d.ByItem[i]))
		near := make([]Neighbour, 0, len(touched))
		for _, j := range touched {
			sim := float64(co[j]) / math.Sqrt(ni*float64(len(d.ByItem[j])))
			near = append(near, Neighbour{Item: j, Sim: float32(sim)})
			co[j] = 0
		}
		touched = touched[:0]
		slices.SortFunc(near, func(a, b Neighbour) int {
			if a.Sim != b.Sim {
				if a.Sim > b.Sim {
					return -1
				}
				return 1
			}
			return int(a.Item - b.Item)
		})
		if len(near) > k {
			near = slices.Clip(near[:k])
		}
		m.Near[i] = near
	}
	return m
}

func (*ItemKNN) Name() string { return "item-knn" }

func (m *ItemKNN) Scores(u int32, out []float32) {
	clear(out)
	for _, e := range m.data.ByUser[u] {
		for _, nb := range m.Near[e.Item] {
			out[nb.Item] += nb.Sim
		}
	}
}

// ALS is an implicit-feedback matrix factorisation: user and item factors
// whose dot product predicts preference, fitted by alternating least
// squares with confidence 1 + Alpha·weight on observed pairs.
type ALS struct {
	Factors            int
	UserF, ItemF       *mat.Dense
	Alpha, Lambda      float64
	Iterations         int
	users, items, rank int
}

// ALSOptions are the factorisation's settings.
type ALSOptions struct {
	Factors    int     // latent dimensions (default 32)
	Alpha      float64 // confidence per unit of weight (default 10)
	Lambda     float64 // regularisation (default 0.1)
	Iterations int     // alternations (default 10)
	Seed       uint64
}

// TrainALS fits the factorisation.
func TrainALS(d *Data, o ALSOptions) *ALS {
	if o.Factors <= 0 {
		o.Factors = 32
	}
	if o.Alpha <= 0 {
		o.Alpha = 10
	}
	if o.Lambda <= 0 {
		o.Lambda = 0.1
	}
	if o.Iterations <= 0 {
		o.Iterations = 10
	}
	f := o.Factors
	r := rand.New(rand.NewPCG(o.Seed, 0xa15))
	m := &ALS{Factors: f, Alpha: o.Alpha, Lambda: o.Lambda, Iterations: o.Iterations, users: len(d.Users), items: len(d.Items)}
	m.UserF = mat.NewDense(max(1, m.users), f, nil)
	m.ItemF = mat.NewDense(max(1, m.items), f, nil)
	for _, x := range []*mat.Dense{m.UserF, m.ItemF} {
		raw := x.RawMatrix().Data
		for i := range raw {
			raw[i] = r.NormFloat64() * 0.01
		}
	}
	// The item side needs each item's users with their weights.
	type uw struct {
		u int32
		w float32
	}
	byItem := make([][]uw, m.items)
	for u, list := range d.ByUser {
		for _, e := range list {
			byItem[e.Item] = append(byItem[e.Item], uw{int32(u), e.Weight})
		}
	}
	if m.users == 0 || m.items == 0 {
		return m
	}
	for range o.Iterations {
		solve(m.UserF, m.ItemF, o, func(row int, fn func(j int, w float32)) {
			for _, e := range d.ByUser[row] {
				fn(int(e.Item), e.Weight)
			}
		})
		solve(m.ItemF, m.UserF, o, func(row int, fn func(j int, w float32)) {
			for _, x := range byItem[row] {
				fn(int(x.u), x.w)
			}
		})
	}
	return m
}

// solve fits every row of x with the other side y fixed:
// (YᵀY + Yᵀ(C−I)Y + λI) x = YᵀC p.
func solve(x, y *mat.Dense, o ALSOptions, each func(row int, fn func(j int, w float32))) {
	rows, f := x.Dims()
	var yty mat.SymDense
	yty.SymOuterK(1, y.T())
	a := mat.NewSymDense(f, nil)
	ar := a.RawSymmetric()
	b := make([]float64, f)
	var chol mat.Cholesky
	sol := mat.NewVecDense(f, nil)
	for row := range rows {
		a.CopySym(&yty)
		for i := range f {
			ar.Data[i*ar.Stride+i] += o.Lambda
		}
		clear(b)
		n := 0
		each(row, func(j int, w float32) {
			n++
			c := 1 + o.Alpha*float64(w)
			yj := y.RawRowView(j)
			for p, yp := range yj {
				b[p] += c * yp
				k := (c - 1) * yp
				line := ar.Data[p*ar.Stride : p*ar.Stride+f]
				for q := p; q < f; q++ { // the upper triangle holds the matrix
					line[q] += k * yj[q]
				}
			}
		})
		xr := x.RawRowView(row)
		if n == 0 {
			clear(xr)
			continue
		}
		if ok := chol.Factorize(a); !ok {
			continue
		}
		if err := chol.SolveVecTo(sol, mat.NewVecDense(f, b)); err != nil {
			continue
		}
		copy(xr, sol.RawVector().Data)
	}
}

func (*ALS) Name() string { return "als" }

func (m *ALS) Scores(u int32, out []float32) {
	uf := m.UserF.RawRowView(int(u))
	for i := range m.items {
		var s float64
		for p, v := range m.ItemF.RawRowView(i) {
			s += v * uf[p]
		}
		out[i] = float32(s)
	}
}
