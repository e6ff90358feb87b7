// Package pls estimates partial least squares path models (Wold;
// Lohmöller's algorithm as in Tenenhaus et al. 2005): latent variables
// measured by blocks of manifest variables, reflective (mode A) or
// formative (mode B), connected by structural paths; inner weighting by
// the centroid, factorial or path scheme. It is how an ACSI-style model
// (expectations, quality, value → satisfaction → complaints, loyalty) is
// estimated from survey answers.
package pls

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Block is a latent variable and its manifest variables (columns).
type Block struct {
	Name    string
	Columns []string
	Mode    string // A (reflective, default) or B (formative)
}

// Path is a structural relationship: From affects To.
type Path struct {
	From string     `json:"from"`
	To   string     `json:"to"`
	Coef float64    `json:"coef"`
	CI95 [2]float64 `json:"ci95,omitzero"`
}

// Options are the estimation's settings.
type Options struct {
	Scheme  string  // centroid (default), factorial or path
	Scaled  bool    // standardise the manifest variables (else only centre them)
	Tol     float64 // convergence: sum of squared changes of |weights| (default 1e-6)
	MaxIter int     // default 100
}

// Result is the estimated model.
type Result struct {
	Paths    []Path             `json:"paths"`
	R2       map[string]float64 `json:"r2"`
	Weights  map[string]float64 `json:"weights"`
	Loadings map[string]float64 `json:"loadings"`
	Iter     int                `json:"iterations"`
	Scores   *mat.Dense         `json:"-"` // rows × latent variables, mean 0, variance 1
	// Effects are the total effects (direct and through other variables)
	// of each latent variable on each other, by "from→to".
	Effects map[string]float64 `json:"total_effects"`
}

// Fit estimates the model on rows of data whose columns are named by
// columns. Missing values (NaN) are replaced by their column's mean.
func Fit(columns []string, rows [][]float64, blocks []Block, paths []Path, o Options) (*Result, error) {
	if o.Scheme == "" {
		o.Scheme = "centroid"
	}
	if o.Scheme != "centroid" && o.Scheme != "factorial" && o.Scheme != "path" {
		return nil, fmt.Errorf("pls: unknown scheme %q (centroid, factorial or path)", o.Scheme)
	}
	if o.Tol == 0 {
		o.Tol = 1e-6
	}
	if o.MaxIter == 0 {
		o.MaxIter = 100
	}
	n := len(rows)
	if n < 3 {
		return nil, errors.New("pls: too few rows")
	}
	m, err := newModel(columns, blocks, paths)
	if err != nil {
		return nil, err
	}
	X, err := m.manifest(rows, o.Scaled)
	if err != nil {
		return nil, err
	}
	W, iter, err := m.outerWeights(X, o)
	if err != nil {
		return nil, err
	}
	res := &Result{R2: map[string]float64{}, Weights: map[string]float64{}, Loadings: map[string]float64{}, Iter: iter, Effects: map[string]float64{}}
	scores := m.scores(X, W)
	for j, c := range m.mvs {
		res.Weights[c] = W.At(j, m.blockOf[j])
		res.Loadings[c] = corr(X.ColView(j), scores.ColView(m.blockOf[j]))
	}
	if err := m.innerModel(res, scores); err != nil {
		return nil, err
	}
	res.Scores = scores
	return res, nil
}

// model is a path model resolved against the data's columns.
type model struct {
	blocks  []Block
	paths   []Path
	idx     map[string]int // column → position in the data
	lv      map[string]int // block → latent variable
	mvs     []string       // the manifest variables, block by block
	blockOf []int          // each manifest variable's latent variable
	inner   *mat.Dense     // inner[to][from] = 1 when from → to
}

func newModel(columns []string, blocks []Block, paths []Path) (*model, error) {
	m := &model{blocks: blocks, paths: paths, idx: map[string]int{}, lv: map[string]int{}}
	for i, c := range columns {
		m.idx[c] = i
	}
	for j, b := range blocks {
		if _, dup := m.lv[b.Name]; dup || len(b.Columns) == 0 {
			return nil, fmt.Errorf("pls: block %q is repeated or empty", b.Name)
		}
		m.lv[b.Name] = j
		for _, c := range b.Columns {
			if _, ok := m.idx[c]; !ok {
				return nil, fmt.Errorf("pls: no column %q", c)
			}
			m.mvs = append(m.mvs, c)
			m.blockOf = append(m.blockOf, j)
		}
	}
	k := len(blocks)
	m.inner = mat.NewDense(k, k, nil)
	for _, pa := range paths {
		f, ok1 := m.lv[pa.From]
		t, ok2 := m.lv[pa.To]
		if !ok1 || !ok2 || f == t {
			return nil, fmt.Errorf("pls: path %s → %s names an unknown block", pa.From, pa.To)
		}
		m.inner.Set(t, f, 1)
	}
	return m, nil
}

// manifest is the manifest variables, centred (and scaled), missing values
// at the mean.
func (m *model) manifest(rows [][]float64, scaled bool) (*mat.Dense, error) {
	n := len(rows)
	X := mat.NewDense(n, len(m.mvs), nil)
	for j, c := range m.mvs {
		col := m.idx[c]
		sum, cnt := 0.0, 0
		for _, r := range rows {
			if v := r[col]; !math.IsNaN(v) {
				sum += v
				cnt++
			}
		}
		if cnt == 0 {
			return nil, fmt.Errorf("pls: column %q has no values", c)
		}
		mean := sum / float64(cnt)
		for i, r := range rows {
			v := r[col]
			if math.IsNaN(v) {
				v = mean
			}
			X.Set(i, j, v-mean)
		}
		if scaled {
			sd := popSD(X.ColView(j))
			if sd == 0 {
				return nil, fmt.Errorf("pls: column %q does not vary", c)
			}
			for i := range n {
				X.Set(i, j, X.At(i, j)/sd)
			}
		}
	}
	return X, nil
}

// outerWeights iterates the outer weights to convergence: each block's
// sum to start, scaled to a unit-variance score; it returns them
// normalised and the iterations taken.
func (m *model) outerWeights(X *mat.Dense, o Options) (*mat.Dense, int, error) {
	n, _ := X.Dims()
	k := len(m.blocks)
	W := mat.NewDense(len(m.mvs), k, nil)
	for j, b := range m.blockOf {
		W.Set(j, b, 1)
	}
	normalise(X, W)
	old := rowSums(W)
	iter := 1
	Y := mat.NewDense(n, k, nil)
	for ; ; iter++ {
		Y.Mul(X, W)
		standardise(Y)
		E := innerWeights(o.Scheme, m.inner, Y)
		var Z mat.Dense
		Z.Mul(Y, E)
		for b := range k {
			if err := m.blockWeights(X, W, Z.ColView(b), b); err != nil {
				return nil, 0, err
			}
		}
		cur := rowSums(W)
		diff := 0.0
		for j := range cur {
			d := math.Abs(old[j]) - math.Abs(cur[j])
			diff += d * d
		}
		if diff < o.Tol {
			break
		}
		if iter >= o.MaxIter {
			return nil, 0, fmt.Errorf("pls: no convergence in %d iterations", o.MaxIter)
		}
		old = cur
	}
	normalise(X, W)
	return W, iter, nil
}

// blockWeights sets block b's outer weights from its inner estimate z: the
// regression of z on the block's variables (mode B) or their covariances
// with it (mode A).
func (m *model) blockWeights(X, W *mat.Dense, z mat.Vector, b int) error {
	n, _ := X.Dims()
	var cols []int
	for j, bb := range m.blockOf {
		if bb == b {
			cols = append(cols, j)
		}
	}
	if m.blocks[b].Mode == "B" {
		Xb := mat.NewDense(n, len(cols), nil)
		for c, j := range cols {
			Xb.SetCol(c, mat.Col(nil, j, X))
		}
		var w mat.VecDense
		if err := w.SolveVec(Xb, z); err != nil {
			return fmt.Errorf("pls: block %s (mode B): %w", m.blocks[b].Name, err)
		}
		for c, j := range cols {
			W.Set(j, b, w.AtVec(c))
		}
		return nil
	}
	for _, j := range cols {
		W.Set(j, b, mat.Dot(z, X.ColView(j))/float64(n))
	}
	return nil
}

// scores are the latent variables' scores, with each block's sign turned
// so its variables correlate positively.
func (m *model) scores(X, W *mat.Dense) *mat.Dense {
	n, _ := X.Dims()
	scores := mat.NewDense(n, len(m.blocks), nil)
	scores.Mul(X, W)
	for b := range m.blocks {
		s := 0.0
		for j, bb := range m.blockOf {
			if bb == b {
				s += sign(corr(X.ColView(j), scores.ColView(b)))
			}
		}
		if s <= 0 {
			for i := range n {
				scores.Set(i, b, -scores.At(i, b))
			}
		}
	}
	return scores
}

// innerModel fills the path coefficients (each endogenous variable
// regressed on its predecessors), the R² and the total effects (the sum
// over path lengths of the coefficient matrix's powers).
func (m *model) innerModel(res *Result, scores *mat.Dense) error {
	k := len(m.blocks)
	coef := mat.NewDense(k, k, nil)
	for t := range k {
		var from []int
		for f := range k {
			if m.inner.At(t, f) == 1 {
				from = append(from, f)
			}
		}
		if len(from) == 0 {
			continue
		}
		beta, r2, err := regress(scores, t, from)
		if err != nil {
			return err
		}
		res.R2[m.blocks[t].Name] = r2
		for i, f := range from {
			coef.Set(t, f, beta[i])
		}
	}
	for _, pa := range m.paths {
		res.Paths = append(res.Paths, Path{From: pa.From, To: pa.To, Coef: coef.At(m.lv[pa.To], m.lv[pa.From])})
	}
	total := mat.NewDense(k, k, nil)
	pow := mat.DenseCopyOf(coef)
	for range k {
		total.Add(total, pow)
		var next mat.Dense
		next.Mul(pow, coef)
		pow = &next
	}
	for t := range k {
		for f := range k {
			if v := total.At(t, f); v != 0 {
				res.Effects[m.blocks[f].Name+"→"+m.blocks[t].Name] = v
			}
		}
	}
	return nil
}

// innerWeights is the inner weighting matrix E (E[i][j]: how latent
// variable i enters the inner estimate of j).
func innerWeights(scheme string, inner *mat.Dense, Y *mat.Dense) *mat.Dense {
	k, _ := inner.Dims()
	E := mat.NewDense(k, k, nil)
	for i := range k {
		for j := range k {
			linked := inner.At(i, j) == 1 || inner.At(j, i) == 1
			if !linked || i == j {
				continue
			}
			c := corr(Y.ColView(i), Y.ColView(j))
			switch scheme {
			case "centroid":
				E.Set(i, j, sign(c))
			case "factorial":
				E.Set(i, j, c)
			case "path":
				// j's successors weigh by correlation; its predecessors by
				// their coefficients in j's regression on them (set below).
				if inner.At(i, j) == 1 {
					E.Set(i, j, c)
				}
			}
		}
	}
	if scheme == "path" {
		for j := range k {
			var pred []int
			for f := range k {
				if inner.At(j, f) == 1 {
					pred = append(pred, f)
				}
			}
			if len(pred) == 0 {
				continue
			}
			beta, _, err := regressNoIntercept(Y, j, pred)
			if err != nil {
				continue
			}
			for i, f := range pred {
				E.Set(f, j, beta[i])
			}
		}
	}
	return E
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func popSD(v mat.Vector) float64 {
	n := v.Len()
	m := 0.0
	for i := range n {
		m += v.AtVec(i)
	}
	m /= float64(n)
	s := 0.0
	for i := range n {
		d := v.AtVec(i) - m
		s += d * d
	}
	return math.Sqrt(s / float64(n))
}

func corr(a, b mat.Vector) float64 {
	n := a.Len()
	ma, mb := 0.0, 0.0
	for i := range n {
		ma += a.AtVec(i)
		mb += b.AtVec(i)
	}
	ma, mb = ma/float64(n), mb/float64(n)
	sab, saa, sbb := 0.0, 0.0, 0.0
	for i := range n {
		da, db := a.AtVec(i)-ma, b.AtVec(i)-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// normalise scales each column of W so that X·W has unit (population) variance.
func normalise(X, W *mat.Dense) {
	var Y mat.Dense
	Y.Mul(X, W)
	_, k := W.Dims()
	for b := range k {
		sd := popSD(Y.ColView(b))
		if sd == 0 {
			continue
		}
		p, _ := W.Dims()
		for j := range p {
			W.Set(j, b, W.At(j, b)/sd)
		}
	}
}

// standardise centres each column and scales it to unit population variance.
func standardise(Y *mat.Dense) {
	n, k := Y.Dims()
	for b := range k {
		col := Y.ColView(b)
		m := 0.0
		for i := range n {
			m += col.AtVec(i)
		}
		m /= float64(n)
		sd := popSD(col)
		for i := range n {
			v := Y.At(i, b) - m
			if sd > 0 {
				v /= sd
			}
			Y.Set(i, b, v)
		}
	}
}

func rowSums(W *mat.Dense) []float64 {
	p, k := W.Dims()
	out := make([]float64, p)
	for j := range p {
		for b := range k {
			out[j] += W.At(j, b)
		}
	}
	return out
}

// regress fits scores[:, t] on scores[:, from] with an intercept; it
// returns the slopes and R².
func regress(S *mat.Dense, t int, from []int) ([]float64, float64, error) {
	n, _ := S.Dims()
	A := mat.NewDense(n, len(from)+1, nil)
	for i := range n {
		A.Set(i, 0, 1)
		for c, f := range from {
			A.Set(i, c+1, S.At(i, f))
		}
	}
	y := mat.Col(nil, t, S)
	var b mat.VecDense
	if err := b.SolveVec(A, mat.NewVecDense(n, y)); err != nil {
		return nil, 0, err
	}
	var fit mat.VecDense
	fit.MulVec(A, &b)
	m := 0.0
	for _, v := range y {
		m += v
	}
	m /= float64(n)
	ssr, sst := 0.0, 0.0
	for i, v := range y {
		ssr += (v - fit.AtVec(i)) * (v - fit.AtVec(i))
		sst += (v - m) * (v - m)
	}
	beta := make([]float64, len(from))
	for c := range from {
		beta[c] = b.AtVec(c + 1)
	}
	return beta, 1 - ssr/sst, nil
}

// regressNoIntercept fits Y[:, t] on Y[:, from] without an intercept.
func regressNoIntercept(Y *mat.Dense, t int, from []int) ([]float64, float64, error) {
	n, _ := Y.Dims()
	A := mat.NewDense(n, len(from), nil)
	for c, f := range from {
		A.SetCol(c, mat.Col(nil, f, Y))
	}
	var b mat.VecDense
	if err := b.SolveVec(A, mat.NewVecDense(n, mat.Col(nil, t, Y))); err != nil {
		return nil, 0, err
	}
	return b.RawVector().Data, 0, nil
}

// Bootstrap re-estimates the model on resamples of the rows and adds to
// each path its 95 % percentile interval.
func Bootstrap(columns []string, rows [][]float64, blocks []Block, paths []Path, o Options, res *Result, resamples int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0xb007))
	draws := make([][]float64, len(res.Paths))
	sample := make([][]float64, len(rows))
	for range resamples {
		for i := range sample {
			sample[i] = rows[r.IntN(len(rows))]
		}
		b, err := Fit(columns, sample, blocks, paths, o)
		if err != nil {
			continue // a degenerate resample
		}
		for i, p := range b.Paths {
			draws[i] = append(draws[i], p.Coef)
		}
	}
	for i := range res.Paths {
		d := draws[i]
		if len(d) < 10 {
			return errors.New("pls: too few usable resamples")
		}
		sort.Float64s(d)
		res.Paths[i].CI95 = [2]float64{quantile(d, 0.025), quantile(d, 0.975)}
	}
	return nil
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}
