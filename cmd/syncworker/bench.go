package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syncworker/syncworker/internal/bench"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// benchCmd runs internal/bench against an in-process sandbox and prints
// one row per scenario (see README, "Performance").
type benchCmd struct {
	p      *Program
	o      bench.Options
	memory string
}

func (c *benchCmd) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.o.Sessions, "sessions", 10000, "active sessions")
	fs.IntVar(&c.o.Messages, "messages", 20, "messages per session")
	fs.IntVar(&c.o.Agents, "agents", 200, "distinct agents")
	fs.DurationVar(&c.o.Latency, "latency", 20*time.Millisecond, "latency added to every request")
	fs.IntVar(&c.o.Concurrency, "concurrency", 16, "sync.concurrency")
	fs.IntVar(&c.o.Baseline, "baseline", 1000, "sessions of the baseline comparison; 0 skips it")
	fs.StringVar(&c.memory, "memory", "10000,100000", "session counts of the memory comparison (no latency); empty skips it")
	fs.Float64Var(&c.o.RateRPS, "rate", 10, "esm.max_rps of the rate-ceiling check; 0 skips it")
	fs.StringVar(&c.o.Platform, "platform", sandbox.PlatformGeneric, "chat platform to fake: "+strings.Join(sandbox.Platforms(), ", "))
}

func (c *benchCmd) run(ctx context.Context, stop <-chan struct{}) error {
	if err := sandbox.CheckPlatform(c.o.Platform); err != nil {
		return withCode(exitConfig, fmt.Errorf("-platform: %w", err))
	}
	if c.o.Sessions <= 0 || c.o.Messages < 0 || c.o.Agents <= 0 || c.o.Concurrency <= 0 || c.o.Baseline < 0 || c.o.RateRPS < 0 {
		return withCode(exitConfig, errors.New("-sessions, -agents and -concurrency must be positive; -messages, -baseline and -rate not negative"))
	}
	for _, f := range strings.Split(c.memory, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return withCode(exitConfig, fmt.Errorf("-memory %q: want session counts like 10000,100000", c.memory))
		}
		c.o.Memory = append(c.o.Memory, n)
	}
	c.o.Sandbox = sandbox.Options{ChatToken: sandboxChatToken, Login: sandboxLogin, Password: sandboxPassword}
	c.o.Config = sandboxTenant
	c.o.Open = func(ctx context.Context, cfg *config.Config, fullScan bool) (bench.Tenant, error) {
		t, err := c.p.openTenant(ctx, cfg, opening{engine: engine.Options{FullScan: fullScan}})
		if err != nil {
			return nil, err
		}
		return benchTenant{t}, nil
	}
	if len(c.o.Memory) > 0 {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		c.o.Executable = self
	}
	res, err := bench.Run(ctx, c.o)
	if res != nil {
		printBench(c.p.Stdout, res)
	}
	if errors.Is(err, bench.ErrCeiling) {
		return withCode(exitPartial, err)
	}
	return err
}

// benchTenant is an opened tenant as the benchmark runs it.
type benchTenant struct{ t *tenant }

func (b benchTenant) Pass(ctx context.Context) (engine.Summary, error) {
	return b.t.engine.Pass(ctx, nil)
}
func (b benchTenant) Close() error { return b.t.Close() }

// printBench prints res: a title, a table of request counts and times per
// scenario, each scenario's summary, and the rate check.
func printBench(w io.Writer, res *bench.Result) {
	fmt.Fprintf(w, "syncworker bench: %d sessions × %d messages, %d agents, %s latency per request, concurrency %d, GOMAXPROCS %d",
		res.Sessions, res.Messages, res.Agents, res.Latency, res.Concurrency, res.GOMAXPROCS)
	if res.Platform != sandbox.PlatformGeneric {
		fmt.Fprintf(w, ", chat platform %s", res.Platform)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsessions\tchat GET list\tchat GET session\tchat GET messages\tesm login\tesm GET stream\tesm GET list\tesm PATCH\tesm POST\twall\tbound\twall/bound\tpeak heap\tpeak RSS\t")
	for _, s := range res.Scenarios {
		count := func(route string) string {
			if s.Requests == nil || route == "" {
				return "-"
			}
			return strconv.Itoa(s.Requests[route])
		}
		bound, ratio := "-", "-"
		if s.Bound > 0 {
			bound, ratio = s.Bound.Round(10*time.Millisecond).String(), fmt.Sprintf("%.2f", s.Ratio())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, s.Sessions,
			count(res.Routes.List), count(res.Routes.Session), count(res.Routes.Messages),
			count(sandbox.RouteLogin), count(sandbox.RouteStreamCards), count(sandbox.RouteListCards),
			count(sandbox.RoutePatchCard), count(sandbox.RouteCreateCard),
			s.Wall.Round(10*time.Millisecond), bound, ratio,
			mib(s.PeakHeap), mib(s.PeakRSS))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, s := range res.Scenarios {
		fmt.Fprintf(w, "%-14s %s", s.Name, s.Summary)
		if s.Note != "" {
			fmt.Fprintf(w, "  (%s)", s.Note)
		}
		fmt.Fprintln(w)
	}
	if r := res.Rate; r != nil {
		fmt.Fprintf(w, "\nrate ceiling: esm.max_rps %g, concurrency %d: %d ESM requests in %s (%.1f/s); busiest one-second window held %d starts\n",
			r.MaxRPS, r.Concurrency, r.Requests, r.Span.Round(10*time.Millisecond), r.Average(), r.Busiest)
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
