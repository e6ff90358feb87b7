package experience

import (
	"context"
	"path/filepath"

	"github.com/cxloop/cxloop/internal/experience/recommend"
)

// RecommendReport is the recommender's offline evaluation: each model's
// accuracy when, per user, the latest interaction is held out and ranked
// against every item the user has not interacted with.
type RecommendReport struct {
	Interactions int                // read from the ratings
	Models       []recommend.Result // popularity, item-knn, als, sequence and the EASE reference, in that order
	// Validation is the same with each user's second-to-last interaction
	// held out (the latest left out): where the models' settings are chosen.
	Validation []recommend.Result
}

// EvaluateRecommend evaluates the standard models on a MovieLens folder
// (ratings.csv: userId,movieId,rating,timestamp) with the leave-last-out
// protocol (recommend.LeaveLastOut).
func EvaluateRecommend(dataDir string) (RecommendReport, error) {
	list, err := recommend.ReadMovieLens(filepath.Join(dataDir, "ratings.csv"))
	if err != nil {
		return RecommendReport{}, err
	}
	return RecommendReport{Interactions: len(list), Models: recommend.LeaveLastOut(list, recommend.WithReference()...),
		Validation: recommend.Validation(list, recommend.WithReference()...)}, nil
}

// EvaluateRecommendOwn evaluates the same models on the database's own
// interactions, by customer, with the same protocol: each customer's
// latest interest (a view, an add, a purchase, a rating; not a return or
// an ignored recommendation) is held out and ranked against every product
// they have not interacted with.
func (s *Service) EvaluateRecommendOwn(ctx context.Context) (RecommendReport, error) {
	all, err := s.trainingData(ctx)
	if err != nil {
		return RecommendReport{}, err
	}
	list := all[:0:0]
	for _, x := range all {
		if x.Weight > 0 {
			list = append(list, x)
		}
	}
	return RecommendReport{Interactions: len(list), Models: recommend.LeaveLastOut(list, recommend.WithReference()...),
		Validation: recommend.Validation(list, recommend.WithReference()...)}, nil
}
