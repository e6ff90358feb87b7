package app

import (
	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/experience/recommend"
)

// RecommendResult is one model's line of a recommender evaluation.
type RecommendResult = recommend.Result

// RecommendReport is a recommender evaluation (experience.RecommendReport).
type RecommendReport = experience.RecommendReport

// The offline evaluations of cxloop's models on published data sets
// (cxloop eval): they read files and open no database.

// EvaluateRecommend evaluates the recommender's models on a MovieLens
// folder (experience.EvaluateRecommend).
func EvaluateRecommend(dataDir string) (experience.RecommendReport, error) {
	return experience.EvaluateRecommend(dataDir)
}

// EvaluateCLV fits the lifetime-value models on a CDNOW folder's
// calibration weeks and forecasts its holdout weeks (analytics.EvaluateCLV).
func EvaluateCLV(dataDir string, calibrationWeeks, holdoutWeeks int) (analytics.CLVReport, error) {
	return analytics.EvaluateCLV(dataDir, calibrationWeeks, holdoutWeeks)
}

// ChurnReport is the value model's churn check (analytics.ChurnReport).
type ChurnReport = analytics.ChurnReport

// ChurnHoldoutDays is a churn check's holdout unless told otherwise.
const ChurnHoldoutDays = analytics.ChurnHoldoutDays

// CheckChurnCDNOW is the value model's churn check on a CDNOW folder
// (analytics.CheckChurnCDNOW).
func CheckChurnCDNOW(dataDir string, holdoutDays int) (ChurnReport, error) {
	return analytics.CheckChurnCDNOW(dataDir, holdoutDays)
}

// EvaluatePLS fits the ECSI model on a satisfaction table
// (analytics.EvaluatePLS).
func EvaluatePLS(path, scheme string, scaled bool, bootstrap int) (analytics.PLSReport, error) {
	return analytics.EvaluatePLS(path, scheme, scaled, bootstrap)
}
