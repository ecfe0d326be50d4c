package main

import (
	"crypto/rand"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
)

// usageCmd is `eni usage`: an account's public IPv4 hours and cost in a
// region, per address and AWS usage type, asked of the running server.
func usageCmd(args []string) error {
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	endpoint := fs.String("endpoint", envOr("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), "the eni server")
	region := fs.String("region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "region")
	account := fs.String("account", "", "account (default: the signer's, or the server's dev-mode account); an account reads only its own usage")
	fromS := fs.String("from", "", "start of the period, RFC 3339 or YYYY-MM-DD (UTC); default: the start of this month")
	toS := fs.String("to", "", "end of the period (exclusive), RFC 3339 or YYYY-MM-DD (UTC); default: now")
	format := fs.String("format", "table", "table or csv")
	now := fs.Bool("now", false, "list the addresses costing money now, with their cost so far, instead")
	dataDir := fs.String("data", "", "read the store in this directory (eni serve's --data) instead of asking a server: only while no eni serve runs on it")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni usage [--region R] [--account A] [--from T] [--to T] [--format table|csv] [--now]\n\n"+
			"Prints the hours and cost of every public IPv4 address of the account in the region over the\n"+
			"period, per address and AWS usage type (USE1-PublicIPv4:InUseAddress, ...-IdleAddress), each\n"+
			"hour at the rate in force then (eni serve --ipv4-rate). It asks a RUNNING eni serve\n"+
			"(GET /eni/v1/usage at --endpoint): the store is the server's while it runs, and the server\n"+
			"counts open intervals up to its own clock. Calls are signed (SigV4, service \"eni\") with the\n"+
			"standard AWS credential chain, as eni serve --auth sigv4 needs. With --data it reads a\n"+
			"stopped server's store instead (--account, default the dev-mode account 123456789012).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "csv" {
		return fmt.Errorf("usage: --format %q: table or csv", *format)
	}
	q := url.Values{"region": {*region}}
	if *account != "" {
		q.Set("account", *account)
	}
	for _, f := range []struct{ name, val string }{{"from", *fromS}, {"to", *toS}} {
		if f.val == "" {
			continue
		}
		t, err := parseWhen(f.val)
		if err != nil {
			return fmt.Errorf("usage: --%s: %w", f.name, err)
		}
		q.Set(f.name, t.Format(time.RFC3339))
	}
	if *dataDir != "" {
		return usageFromStore(os.Stdout, *dataDir, *region, *account, q, *now, *format)
	}
	c := newAPIClient("usage", *region)
	base := strings.TrimRight(*endpoint, "/") + api.UsagePath
	if *now {
		var rep api.BilledReply
		if err := c.Call(http.MethodGet, base+"/now?"+q.Encode(), nil, &rep); err != nil {
			return err
		}
		return printBilled(os.Stdout, rep, *format)
	}
	var rep api.UsageReply
	if err := c.Call(http.MethodGet, base+"?"+q.Encode(), nil, &rep); err != nil {
		return err
	}
	return printUsage(os.Stdout, rep, *format)
}

// usageFromStore answers from the store of a stopped server: the same core
// reports the server gives, on this machine's clock.
func usageFromStore(w io.Writer, dir, region, account string, q url.Values, now bool, format string) error {
	path := filepath.Join(dir, "eni.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("usage: --data: %w", err)
	}
	st, err := store.OpenBolt(path)
	if err != nil {
		return fmt.Errorf("usage: %w; while eni serve runs, ask it (drop --data)", err)
	}
	defer st.Close()
	cfg := core.DefaultConfig()
	if account == "" {
		account = cfg.DefaultAccount
	}
	if cfg.Regions = core.AWSRegions(); !slices.Contains(cfg.Regions, region) && core.ValidRegion(region) {
		cfg.Regions = append(cfg.Regions, region) // a region of one's own
	}
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, cfg)
	if _, err := c.LoadFrom(st.Load); err != nil {
		return fmt.Errorf("usage: load %s: %w", path, err)
	}
	var from, to time.Time
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(f.name); v != "" {
			*f.t, _ = time.Parse(time.RFC3339, v) // formatted by usageCmd
		}
	}
	return c.View(core.Caller{Account: account, Region: region}, func(tx *core.Tx) error {
		if now {
			return printBilled(w, api.BilledReply{Region: region, Account: account, Addresses: tx.BilledNow()}, format)
		}
		t := tx.Now()
		if from.IsZero() {
			from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		if to.IsZero() || to.After(t) {
			to = t
		}
		if to.Before(from) {
			return fmt.Errorf("usage: --to %s is before --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
		}
		return printUsage(w, api.UsageReply{Region: region, Account: account, From: from, To: to, Lines: tx.Usage(from, to)}, format)
	})
}

// parseWhen reads RFC 3339 or a UTC date.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-02T15:04:05Z) nor a date (2026-01-02)", s)
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// printUsage writes the report as a table (with a total) or CSV.
func printUsage(w io.Writer, rep api.UsageReply, format string) error {
	if format == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"region", "account", "usage_type", "public_ip", "resource_id", "hours", "cost_usd", "billed_now"})
		for _, l := range rep.Lines {
			_ = cw.Write([]string{rep.Region, rep.Account, l.UsageType, l.PublicIP, l.ResourceID, money(l.Hours), money(l.Cost), strconv.FormatBool(l.Now)})
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(w, "Public IPv4 usage of account %s in %s, %s to %s\n\n", rep.Account, rep.Region,
		rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USAGE TYPE\tPUBLIC IP\tRESOURCE\tHOURS\tCOST (USD)\tNOW\t")
	var hours, cost float64
	for _, l := range rep.Lines {
		mark := ""
		if l.Now {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", l.UsageType, l.PublicIP, l.ResourceID, money(l.Hours), money(l.Cost), mark)
		hours, cost = hours+l.Hours, cost+l.Cost
	}
	fmt.Fprintf(tw, "total\t\t\t%s\t%s\t\t\n", money(hours), money(cost))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n* billed under this usage type now")
	return err
}

// printBilled writes the addresses costing money now.
func printBilled(w io.Writer, rep api.BilledReply, format string) error {
	if format == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"region", "account", "usage_type", "public_ip", "allocation_id", "eni_id", "instance_id", "since", "rate_usd_per_hour", "hours_so_far", "cost_so_far_usd"})
		for _, b := range rep.Addresses {
			_ = cw.Write([]string{rep.Region, rep.Account, b.UsageType, b.PublicIP, b.AllocationID, b.ENIID, b.InstanceID,
				b.Since.Format(time.RFC3339), strconv.FormatFloat(b.Rate, 'f', -1, 64), money(b.HoursSoFar), money(b.CostSoFar)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USAGE TYPE\tPUBLIC IP\tALLOCATION\tENI\tINSTANCE\tSINCE\tHOURS SO FAR\tCOST SO FAR (USD)")
	for _, b := range rep.Addresses {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.UsageType, b.PublicIP, dash(b.AllocationID), dash(b.ENIID), dash(b.InstanceID),
			b.Since.Format(time.RFC3339), money(b.HoursSoFar), money(b.CostSoFar))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
