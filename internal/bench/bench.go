// Package bench measures sync passes against the sandbox: a cold pass, an
// idle one and one with 1% of the sessions changed over the same data, the
// baseline of a sequential full scan, the worker's memory over large
// stores, and the ESM rate ceiling. It returns structured results; the
// command line prints them (README, "Performance").
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// Options say what to measure and how to reach the worker.
type Options struct {
	// Platform is the chat platform the sandbox fakes.
	Platform string
	// Sessions, Messages and Agents size the generated data of the cold,
	// idle and 1% passes.
	Sessions, Messages, Agents int
	// Latency is added to every request of those passes and the baseline.
	Latency time.Duration
	// Concurrency is the tenant's sync.concurrency.
	Concurrency int
	// Baseline is the number of sessions of the baseline comparison
	// (sequential, no skipping); 0 skips it.
	Baseline int
	// Memory are the session counts of the memory scenarios (no latency,
	// sandbox in a child process); empty skips them.
	Memory []int
	// RateRPS is esm.max_rps of the rate-ceiling check; 0 skips it.
	RateRPS float64
	// Sandbox holds the sandbox's credentials; Platform and the request
	// log are set here.
	Sandbox sandbox.Options
	// Config parses the tenant named name against a sandbox at addr whose
	// chat block is chat, its state under dir, with extra YAML appended.
	Config func(name, addr, dir, chat, extra string) (*config.Config, error)
	// Open opens a tenant as the worker does; fullScan turns off the
	// skipping of unchanged sessions (the baseline).
	Open func(ctx context.Context, cfg *config.Config, fullScan bool) (Tenant, error)
	// Executable is the syncworker binary the memory scenarios start as
	// their sandbox, so that the figures are the worker's alone.
	Executable string
}

// A Tenant is one opened tenant: its engine's pass and its state.
type Tenant interface {
	Pass(ctx context.Context) (engine.Summary, error)
	Close() error
}

// Result is what Run measured.
type Result struct {
	Platform                   string
	Sessions, Messages, Agents int
	Latency                    time.Duration
	Concurrency                int
	GOMAXPROCS                 int
	Routes                     sandbox.ChatRoutes
	Scenarios                  []Scenario
	Rate                       *Rate
}

// Scenario is one measured pass.
type Scenario struct {
	Name string
	// Sessions is the number of active sessions the pass looked at.
	Sessions int
	// Requests counts the sandbox's requests by route; nil when the
	// sandbox ran in a child process.
	Requests map[string]int
	// Wall is how long the pass took; Bound the least it could take at
	// the added latency and the concurrency (zero when unknown).
	Wall, Bound       time.Duration
	PeakHeap, PeakRSS uint64
	Summary           engine.Summary
	Note              string
}

// Ratio is Wall over Bound; 0 when there is no bound.
func (s Scenario) Ratio() float64 {
	if s.Bound <= 0 {
		return 0
	}
	return s.Wall.Seconds() / s.Bound.Seconds()
}

// Rate is the outcome of the rate-ceiling check.
type Rate struct {
	MaxRPS      float64
	Concurrency int
	// Requests is the number of ESM requests of the pass; Busiest the most
	// that started within one second.
	Requests, Busiest int
	// Span is the time from the first start to the last.
	Span time.Duration
}

// Held reports whether the ceiling held: no one-second window held more
// starts than MaxRPS.
func (r Rate) Held() bool { return float64(r.Busiest) <= r.MaxRPS }

// Average is the rate of starts over the whole span. It tells a ceiling
// that did not pace the requests (an average far above MaxRPS) from
// starts the sandbox stamped late and in a bunch because the machine was
// busy (an average at or below it).
func (r Rate) Average() float64 {
	if r.Requests < 2 || r.Span <= 0 {
		return 0
	}
	return float64(r.Requests-1) / r.Span.Seconds()
}

// ErrCeiling is returned, with the full result, when the ESM rate ceiling
// did not hold.
var ErrCeiling = errors.New("the ESM rate ceiling was exceeded")

// Run measures what o asks for.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := sandbox.CheckPlatform(o.Platform); err != nil {
		return nil, err
	}
	res := &Result{Platform: o.Platform, Sessions: o.Sessions, Messages: o.Messages, Agents: o.Agents,
		Latency: o.Latency, Concurrency: o.Concurrency, GOMAXPROCS: runtime.GOMAXPROCS(0)}

	// cold, warm-idle, warm-1% on one sandbox and one state.
	env, err := o.newEnv(ctx, o.Sessions, o.Latency, o.Concurrency, false)
	if err != nil {
		return nil, err
	}
	res.Routes = env.sb.ChatRoutes()
	for _, name := range []string{"cold", "warm-idle", "warm-1%"} {
		note := ""
		if name == "warm-1%" {
			changed, ended := env.touch(o.Sessions/100, o.Sessions/500)
			note = fmt.Sprintf("%d changed, %d ended", changed, ended)
		}
		s, err := env.measure(ctx, name)
		if err != nil {
			env.close()
			return nil, err
		}
		s.Note = joinNotes(note, s.Note)
		res.Scenarios = append(res.Scenarios, s)
	}
	env.close()

	if o.Baseline > 0 {
		base, err := o.measureOnce(ctx, "baseline", o.Baseline, 1, true)
		if err != nil {
			return nil, err
		}
		base.Note = joinNotes("concurrency 1, no skipping: the way IWChatHistoryDownloadTask works", base.Note)
		cold, err := o.measureOnce(ctx, "cold-"+strconv.Itoa(o.Baseline), o.Baseline, o.Concurrency, false)
		if err != nil {
			return nil, err
		}
		cold.Note = joinNotes(fmt.Sprintf("%.1f× faster than baseline", base.Wall.Seconds()/cold.Wall.Seconds()), cold.Note)
		res.Scenarios = append(res.Scenarios, base, cold)
	}
	for _, n := range o.Memory {
		s, err := o.measureMemory(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("memory-%d: %w", n, err)
		}
		res.Scenarios = append(res.Scenarios, s)
	}
	if o.RateRPS > 0 {
		r, err := o.rateCheck(ctx)
		if err != nil {
			return nil, err
		}
		res.Rate = r
		if !r.Held() {
			return res, ErrCeiling
		}
	}
	return res, nil
}

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// env is a sandbox served on loopback, a state directory and an opened
// tenant for one series of passes.
type env struct {
	sb  *sandbox.Server
	srv *sandbox.Local
	t   Tenant
	cfg *config.Config
}

func (o *Options) newEnv(ctx context.Context, sessions int, latency time.Duration, concurrency int, fullScan bool) (*env, error) {
	so := o.Sandbox
	so.Platform, so.RequestLogSize = o.Platform, -1
	e := &env{sb: sandbox.New(so)}
	if err := e.open(ctx, o, sessions, latency, concurrency, fullScan); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) open(ctx context.Context, o *Options, sessions int, latency time.Duration, concurrency int, fullScan bool) error {
	if _, err := e.sb.Generate(sandbox.GenOptions{Sessions: sessions, MessagesPerSession: o.Messages, Agents: o.Agents,
		Seed: 42, EndedShare: -1}); err != nil {
		return err
	}
	e.sb.SetFaults(sandbox.Everywhere(sandbox.Fault{Latency: latency}))
	var err error
	if e.srv, err = sandbox.ServeLocal(e.sb, "syncworker-bench-"); err != nil {
		return err
	}
	e.cfg, err = o.Config("bench", e.srv.Addr, e.srv.Dir, e.sb.ChatConfig("http://"+e.srv.Addr),
		fmt.Sprintf("sync:\n  concurrency: %d\n  pass_timeout: 1h\n", concurrency))
	if err != nil {
		return err
	}
	// No rate ceilings: the lower bound assumes none.
	e.cfg.Chat.MaxRPS, e.cfg.ESM.MaxRPS = 0, 0
	e.t, err = o.Open(ctx, e.cfg, fullScan)
	return err
}

// close releases what open got, however far it got.
func (e *env) close() {
	if e.t != nil {
		e.t.Close()
	}
	if e.srv != nil {
		e.srv.Close()
	}
	e.sb.Close()
}

// measureOnce measures one cold pass over a sandbox of its own.
func (o *Options) measureOnce(ctx context.Context, name string, sessions, concurrency int, fullScan bool) (Scenario, error) {
	e, err := o.newEnv(ctx, sessions, o.Latency, concurrency, fullScan)
	if err != nil {
		return Scenario{}, err
	}
	defer e.close()
	return e.measure(ctx, name)
}

// touch gives n active sessions a new message and ends m others.
func (e *env) touch(n, m int) (changed, ended int) {
	for _, id := range e.sb.SessionIDs() {
		s, _, _ := e.sb.Session(id)
		if s.Ended() {
			continue
		}
		switch {
		case changed < n:
			msg := aggregate.Message{SentAt: time.Now(), Sender: aggregate.Sender{Type: aggregate.SenderVisitor, Name: "V"}, Text: "one more thing"}
			if e.sb.AppendMessages(id, msg) == nil {
				changed++
			}
		case ended < m:
			if e.sb.EndSession(id, time.Now()) == nil {
				ended++
			}
		}
	}
	return changed, ended
}

// measure runs one pass and counts what it cost.
func (e *env) measure(ctx context.Context, name string) (Scenario, error) {
	active := 0
	for _, c := range e.sb.SessionCards() {
		if c.Text(e.cfg.ESM.Attributes.Active) == e.cfg.ESM.ActiveValues.Active.Value {
			active++
		}
	}
	e.sb.ResetStats()
	p, err := timedPass(ctx, e.t)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", name, err)
	}
	counts := e.sb.Counts()
	total := 0
	for _, n := range counts {
		total += n
	}
	// Discovery (one stream, or a page per 200 cards) and the change
	// listing are sequential; everything else can overlap up to the
	// concurrency.
	routes := e.sb.ChatRoutes()
	discovery := counts[sandbox.RouteStreamCards]
	if discovery == 0 {
		discovery = int(math.Ceil(float64(active) / 200))
	}
	sequential := discovery
	if routes.List != "" {
		sequential += counts[routes.List]
	}
	lat := e.sb.Faults().Chat.Latency
	bound := time.Duration(sequential)*lat + time.Duration(total-sequential)*lat/time.Duration(e.cfg.Sync.Concurrency)
	var other []string
	for _, r := range routes.Others {
		if counts[r] > 0 {
			other = append(other, fmt.Sprintf("%s: %d", r, counts[r]))
		}
	}
	return Scenario{Name: name, Sessions: active, Requests: counts, Wall: p.wall, Bound: bound,
		PeakHeap: p.peakHeap, PeakRSS: p.peakRSS, Summary: p.summary, Note: strings.Join(other, ", ")}, nil
}

// measureMemory runs a cold pass over n sessions with no added latency
// against a sandbox in a child process, so that the heap and RSS measured
// are the worker's alone.
func (o *Options) measureMemory(ctx context.Context, n int) (Scenario, error) {
	if o.Executable == "" || strings.HasSuffix(o.Executable, ".test") {
		return Scenario{}, errors.New("the memory scenarios start the syncworker binary as their sandbox; run them from it, not from a test")
	}
	child := exec.CommandContext(ctx, o.Executable, "sandbox", "-listen", "127.0.0.1:0", "-log-level", "error",
		"-platform", o.Platform, "-sessions", strconv.Itoa(n), "-messages", strconv.Itoa(o.Messages),
		"-agents", strconv.Itoa(o.Agents), "-seed", "42")
	stderr, err := child.StderrPipe()
	if err != nil {
		return Scenario{}, err
	}
	if err := child.Start(); err != nil {
		return Scenario{}, err
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	addr, err := sandboxAddr(stderr, 30*time.Second)
	if err != nil {
		return Scenario{}, fmt.Errorf("sandbox child: %w", err)
	}
	go io.Copy(io.Discard, stderr)
	dir, err := os.MkdirTemp("", "syncworker-bench-")
	if err != nil {
		return Scenario{}, err
	}
	defer os.RemoveAll(dir)
	so := o.Sandbox
	so.Platform = o.Platform
	local := sandbox.New(so)
	defer local.Close()
	chat := local.ChatConfig("http://" + addr)
	cfg, err := o.Config("bench", addr, dir, chat, fmt.Sprintf("sync:\n  concurrency: %d\n  pass_timeout: 1h\n", o.Concurrency))
	if err != nil {
		return Scenario{}, err
	}
	cfg.Chat.MaxRPS, cfg.ESM.MaxRPS = 0, 0
	t, err := o.Open(ctx, cfg, false)
	if err != nil {
		return Scenario{}, err
	}
	defer t.Close()
	p, err := timedPass(ctx, t)
	if err != nil {
		return Scenario{}, err
	}
	return Scenario{Name: "memory-" + strconv.Itoa(n), Sessions: p.summary.Sessions, Wall: p.wall, Summary: p.summary,
		PeakHeap: p.peakHeap, PeakRSS: p.peakRSS, Note: "no latency; sandbox in a child process, figures are the worker's"}, nil
}

// rateCheck runs a pass under esm.max_rps and finds the busiest one-second
// window of ESM request starts the sandbox saw.
func (o *Options) rateCheck(ctx context.Context) (*Rate, error) {
	so := o.Sandbox
	so.Platform = o.Platform
	sb := sandbox.New(so)
	defer sb.Close()
	if _, err := sb.Generate(sandbox.GenOptions{Sessions: 60, MessagesPerSession: o.Messages, Agents: 20, Seed: 7, EndedShare: -1}); err != nil {
		return nil, err
	}
	srv, err := sandbox.ServeLocal(sb, "syncworker-bench-")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	cfg, err := o.Config("rate", srv.Addr, srv.Dir, sb.ChatConfig("http://"+srv.Addr), fmt.Sprintf("sync:\n  concurrency: %d\n", o.Concurrency))
	if err != nil {
		return nil, err
	}
	cfg.Chat.MaxRPS, cfg.ESM.MaxRPS = 0, o.RateRPS
	t, err := o.Open(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if _, err := t.Pass(ctx); err != nil {
		return nil, err
	}
	var starts []time.Time
	for _, r := range sb.Requests() {
		if r.API == sandbox.APIESM {
			starts = append(starts, r.Start)
		}
	}
	r := &Rate{MaxRPS: o.RateRPS, Concurrency: o.Concurrency, Requests: len(starts), Busiest: maxInWindow(starts, time.Second)}
	if len(starts) > 1 {
		r.Span = starts[len(starts)-1].Sub(starts[0])
	}
	return r, nil
}

// maxInWindow is the largest number of times within any window [t, t+d).
func maxInWindow(ts []time.Time, d time.Duration) int {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// sandboxAddr reads the address from the sandbox command's first line,
// giving up after wait.
func sandboxAddr(r io.Reader, wait time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- result{line, err}
	}()
	var line string
	select {
	case res := <-ch:
		if res.err != nil {
			return "", res.err
		}
		line = res.line
	case <-time.After(wait):
		return "", fmt.Errorf("no address within %s", wait)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "sandbox serving on http://")
	if !ok {
		return "", fmt.Errorf("unexpected first line %q", line)
	}
	return addr, nil
}

// passCost is one pass and what it took.
type passCost struct {
	summary           engine.Summary
	wall              time.Duration
	peakHeap, peakRSS uint64
}

// timedPass runs one pass of t, timing it and sampling the peak heap and
// the peak RSS it reached, from a collected heap and a reset RSS peak.
func timedPass(ctx context.Context, t Tenant) (passCost, error) {
	runtime.GC()
	resetPeakRSS()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		sampleHeap(&peak, done)
		close(sampled)
	}()
	start := time.Now()
	sum, err := t.Pass(ctx)
	wall := time.Since(start)
	close(done)
	<-sampled
	return passCost{summary: sum, wall: wall, peakHeap: peak.Load(), peakRSS: peakRSS()}, err
}

// heapBytes is the live heap right now.
func heapBytes() uint64 {
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

func sampleHeap(peak *atomic.Uint64, done <-chan struct{}) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if h := heapBytes(); h > peak.Load() {
			peak.Store(h)
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// resetPeakRSS starts a new peak-RSS measurement (Linux 4.0 and later).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set size since the last reset.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
