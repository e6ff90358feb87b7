package eventlog

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type logMetrics struct {
	appended prometheus.Counter
	group    prometheus.Histogram
	commit   prometheus.Histogram
}

func newLogMetrics() logMetrics {
	return logMetrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{Name: "cxloop_eventlog_appended_events_total",
			Help: "Events committed to the log (duplicates of a stored messageId included)."}),
		group: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cxloop_eventlog_group_commit_events",
			Help: "Events carried by one group commit.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cxloop_eventlog_commit_seconds",
			Help: "Time to write and commit one group, before its sync to disk (which commits made meanwhile share).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
}

// Collectors are the log's metrics, for the composition root to register.
func (l *Log) Collectors() []prometheus.Collector {
	return []prometheus.Collector{l.metrics.appended, l.metrics.group, l.metrics.commit}
}

// lag reports, at each scrape, how far each consumer is behind the log:
// every consumer's, whichever node runs it (the checkpoints are shared).
type lag struct {
	r               *Runner
	events, seconds *prometheus.Desc
}

// Collectors are the runner's metrics: each consumer's lag behind the log,
// in events and in seconds (how long the oldest event it has not applied
// has waited).
func (r *Runner) Collectors() []prometheus.Collector {
	return []prometheus.Collector{&lag{r: r,
		events: prometheus.NewDesc("cxloop_consumer_lag_events", "Events in the log that the consumer has not applied yet.", []string{"consumer"}, nil),
		seconds: prometheus.NewDesc("cxloop_consumer_lag_seconds", "How long the oldest event the consumer has not applied has waited since it was received (0: caught up).",
			[]string{"consumer"}, nil)}}
}

func (l *lag) Describe(ch chan<- *prometheus.Desc) { ch <- l.events; ch <- l.seconds }

func (l *lag) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lags, err := Lags(ctx, l.r.db, time.Now(), l.r.Names()...)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(l.events, err)
		return
	}
	for _, x := range lags {
		ch <- prometheus.MustNewConstMetric(l.events, prometheus.GaugeValue, float64(x.Events), x.Consumer)
		ch <- prometheus.MustNewConstMetric(l.seconds, prometheus.GaugeValue, x.Seconds, x.Consumer)
	}
}
