package mail

import (
	"context"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the state of email delivery to Prometheus, read at
// each scrape from PostgreSQL (mail_health, email_delivery) and Redis
// (asynq's queues): any web process shows the figures of every worker.
type Collector struct {
	Health *Health
	// Inspector reads the queue depth of Queues (empty: every queue in
	// Redis); nil: not exported.
	Inspector *asynq.Inspector
	Queues    []string

	byStatus, oldest, failures, retries, failing, depth *prometheus.Desc
}

// NewCollector describes the metrics.
func NewCollector(h *Health, inspector *asynq.Inspector, queues []string) *Collector {
	return &Collector{
		Health: h, Inspector: inspector, Queues: queues,
		byStatus: prometheus.NewDesc("mend_emails", "Emails in the email log by delivery status.", []string{"status"}, nil),
		oldest: prometheus.NewDesc("mend_email_oldest_unsent_age_seconds",
			"Age of the oldest email queued or being sent (0: none).", nil, nil),
		failures: prometheus.NewDesc("mend_email_smtp_failures_total",
			"Delivery attempts the SMTP server refused or that could not reach it.", nil, nil),
		retries: prometheus.NewDesc("mend_email_retries_total",
			"Delivery attempts that failed temporarily and were scheduled again.", nil, nil),
		failing: prometheus.NewDesc("mend_email_delivery_failing",
			"1 while delivery is failing (since the last refusal, until a message goes through).", nil, nil),
		depth: prometheus.NewDesc("mend_asynq_queue_tasks",
			"Tasks in each asynq queue by state.", []string{"queue", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.byStatus, c.oldest, c.failures, c.retries, c.failing, c.depth} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A figure that cannot be read
// (PostgreSQL or Redis down) is left out and reported as a scrape error.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.Health.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.byStatus, err)
	} else {
		for status, n := range st.ByStatus {
			ch <- prometheus.MustNewConstMetric(c.byStatus, prometheus.GaugeValue, float64(n), status)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.OldestUnsent.Seconds())
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(st.SMTPFailures))
		ch <- prometheus.MustNewConstMetric(c.retries, prometheus.CounterValue, float64(st.Retries))
		failing := 0.0
		if st.Failing {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, failing)
	}
	if c.Inspector == nil {
		return
	}
	known, err := c.Inspector.Queues()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	queues := c.Queues
	if len(queues) == 0 {
		queues = known
	}
	for _, q := range queues {
		info := &asynq.QueueInfo{} // a queue nothing was put on yet is empty
		if slices.Contains(known, q) {
			if info, err = c.Inspector.GetQueueInfo(q); err != nil {
				ch <- prometheus.NewInvalidMetric(c.depth, err)
				return
			}
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived} {
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}
