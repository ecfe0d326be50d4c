package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/prometheus/client_golang/prometheus"
)

// The usage endpoint serves `eni usage` (not part of EC2): an account's
// public IPv4 usage in a region, per address and AWS usage type. It goes
// through what the task API goes through (request id, panic recovery,
// metrics, rate limit and, with --auth sigv4, a SigV4 signature scoped to
// the service TaskService); an account reads only its own usage.
//
//	GET /eni/v1/usage?region=R&account=A&from=T&to=T -> UsageReply
//	GET /eni/v1/usage/now?region=R                 -> BilledReply
//
// T is RFC 3339; from defaults to the start of the current month (UTC), to
// to now. Errors are {"code","message"} with the HTTP status.

// UsagePath is where the usage API is served.
const UsagePath = "/eni/v1/usage"

// UsageReply is an account's public IPv4 usage over a period.
type UsageReply struct {
	Region  string           `json:"region"`
	Account string           `json:"account"`
	From    time.Time        `json:"from"`
	To      time.Time        `json:"to"`
	Lines   []core.UsageLine `json:"lines"`
}

// BilledReply lists the addresses costing money now.
type BilledReply struct {
	Region    string               `json:"region"`
	Account   string               `json:"account"`
	Addresses []core.BilledAddress `json:"addresses"`
}

func isUsagePath(p string) bool { return p == UsagePath || p == UsagePath+"/now" }

// serveUsage serves one usage API call into buf.
func (s *Server) serveUsage(r *http.Request, req *request, buf *bytes.Buffer) error {
	req.action = "eni:GetUsage"
	if r.URL.Path == UsagePath+"/now" {
		req.action = "eni:GetBilledAddresses"
	}
	if r.Method != http.MethodGet {
		return newTaskErr(http.StatusMethodNotAllowed, core.CodeInvalidAction, "the usage API answers GET only")
	}
	q := r.URL.Query()
	if err := s.identifyTask(r, req, nil, q.Get("region")); err != nil {
		return err
	}
	if a := q.Get("account"); a != "" && a != req.who.Account {
		return newTaskErr(http.StatusForbidden, core.CodeUnauthorizedOperation,
			"You are not authorized to read the usage of account "+truncateID(a)+": an account reads only its own.")
	}
	var from, to time.Time
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return newTaskErr(http.StatusBadRequest, core.CodeInvalidParameterValue, "Value ("+truncateID(v)+") for parameter "+f.name+" is invalid: an RFC 3339 time is expected (2026-01-02T15:04:05Z).")
			}
			*f.t = t.UTC()
		}
	}
	var rep any
	var need mark
	err := s.core.Read(req.who, s.commit, func(tx *core.Tx) error {
		need = s.seen()
		if req.action == "eni:GetBilledAddresses" {
			rep = BilledReply{Region: tx.Region, Account: tx.Account, Addresses: tx.BilledNow()}
			return nil
		}
		now := tx.Now()
		if from.IsZero() {
			from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		if to.IsZero() || to.After(now) {
			to = now
		}
		if to.Before(from) {
			return newTaskErr(http.StatusBadRequest, core.CodeInvalidParameterValue, "The period is invalid: to ("+to.Format(time.RFC3339)+") is before from ("+from.Format(time.RFC3339)+").")
		}
		rep = UsageReply{Region: tx.Region, Account: tx.Account, From: from, To: to, Lines: tx.Usage(from, to)}
		return nil
	})
	if err := s.settled(err, need); err != nil {
		return err
	}
	return json.NewEncoder(buf).Encode(rep)
}

// usageCollector exports the public IPv4 usage of every region and account
// (core.UsageTotals) at each scrape.
type usageCollector struct {
	core                   *core.Core
	addresses, hours, cost *prometheus.Desc
}

func newUsageCollector(c *core.Core) *usageCollector {
	labels := []string{"region", "account", "usage_type"}
	return &usageCollector{
		core: c,
		addresses: prometheus.NewDesc("eni_public_ipv4_addresses",
			"Public IPv4 addresses billed now, by region, account and AWS usage type (REGION-PublicIPv4:InUseAddress or IdleAddress).", labels, nil),
		hours: prometheus.NewDesc("eni_public_ipv4_hours_total",
			"Hours of public IPv4 addresses billed since metering began, by region, account and usage type.", labels, nil),
		cost: prometheus.NewDesc("eni_public_ipv4_cost_usd_total",
			"Cost in USD of public IPv4 addresses since metering began, at each interval's rate, by region, account and usage type.", labels, nil),
	}
}

func (u *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- u.addresses
	ch <- u.hours
	ch <- u.cost
}

func (u *usageCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range u.core.UsageTotals() {
		l := []string{t.Region, t.Account, t.UsageType}
		ch <- prometheus.MustNewConstMetric(u.addresses, prometheus.GaugeValue, float64(t.Addresses), l...)
		ch <- prometheus.MustNewConstMetric(u.hours, prometheus.CounterValue, t.Hours, l...)
		ch <- prometheus.MustNewConstMetric(u.cost, prometheus.CounterValue, t.Cost, l...)
	}
}
