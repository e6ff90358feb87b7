package recommend

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
)

// ReadMovieLens reads MovieLens ratings (userId,movieId,rating,timestamp):
// every rating is an interaction of weight 1.
func ReadMovieLens(path string) ([]Interaction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	u, okU := col["userId"]
	m, okM := col["movieId"]
	t, okT := col["timestamp"]
	if !okU || !okM || !okT {
		return nil, fmt.Errorf("%s: the header names userId, movieId and timestamp", path)
	}
	var list []Interaction
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return list, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		at, err := strconv.ParseInt(rec[t], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: timestamp: %w", path, line, err)
		}
		list = append(list, Interaction{User: rec[u], Item: rec[m], Weight: 1, At: at})
	}
}
