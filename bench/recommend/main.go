// Command recommend measures training and serving of the recommender on
// synthetic implicit feedback: users choose items with Zipf-like
// popularity inside a few tastes (clusters of items). It prints training
// times and serving latency per model, against popularity serving (a copy
// of the item scores and the same top-n selection) in the same run.
//
//	go run ./bench/recommend -items 100000 -interactions 1000000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/cxloop/cxloop/bench/benchkit"
	"github.com/cxloop/cxloop/internal/experience/recommend"
)

func main() {
	items := flag.Int("items", 100_000, "items in the catalogue")
	n := flag.Int("interactions", 1_000_000, "interactions")
	users := flag.Int("users", 50_000, "users")
	requests := flag.Int("requests", 5_000, "serving requests per model")
	flag.Parse()
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.1, 2, uint64(*items/20-1))
	list := make([]recommend.Interaction, 0, *n)
	for i := range *n {
		u := r.IntN(*users)
		taste := u % 20 // each taste has its own slice of the catalogue
		item := taste*(*items/20) + int(zipf.Uint64())
		list = append(list, recommend.Interaction{User: fmt.Sprint("u", u), Item: fmt.Sprint("p", item), Weight: 1, At: int64(i)})
	}
	fmt.Printf("machine: %s\n%d interactions, %d users, %d items\n\n", benchkit.Machine(), *n, *users, *items)
	t0 := time.Now()
	d := recommend.Index(list)
	fmt.Printf("index: %s (%d users, %d items with interactions)\n", time.Since(t0).Round(time.Millisecond), len(d.Users), len(d.Items))
	type model struct {
		m     recommend.Model
		train time.Duration
	}
	var models []model
	for _, tr := range recommend.Standard() {
		t := time.Now()
		m := tr(d)
		models = append(models, model{m, time.Since(t)})
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("heap after training: %d MiB\n\n", ms.HeapAlloc>>20)
	fmt.Printf("%-12s %12s %10s %10s %10s\n", "model", "train", "p50", "p99", "max")
	scores := make([]float32, len(d.Items))
	for _, m := range models {
		lat := make([]time.Duration, 0, *requests)
		for i := range *requests {
			u := int32(i * 7919 % len(d.Users))
			t := time.Now()
			m.m.Scores(u, scores)
			top := recommend.Top(scores, 10, func(it int32) bool { return d.Seen(u, it) })
			lat = append(lat, time.Since(t))
			if len(top) == 0 {
				benchkit.Fail("no recommendations for user %d", u)
			}
		}
		slices.Sort(lat)
		fmt.Printf("%-12s %12s %10s %10s %10s\n", m.m.Name(), m.train.Round(time.Millisecond), benchkit.Pct(lat, 50), benchkit.Pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond))
	}
}
