package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// benchCmd measures sync passes against an in-process sandbox with added
// latency, and prints one row per scenario (see README, "Performance").
type benchCmd struct {
	p           *Program
	sessions    int
	messages    int
	agents      int
	latency     time.Duration
	concurrency int
	baseline    int
	memory      string
	rateRPS     float64
	platform    string
}

func (c *benchCmd) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.sessions, "sessions", 10000, "active sessions")
	fs.IntVar(&c.messages, "messages", 20, "messages per session")
	fs.IntVar(&c.agents, "agents", 200, "distinct agents")
	fs.DurationVar(&c.latency, "latency", 20*time.Millisecond, "latency added to every request")
	fs.IntVar(&c.concurrency, "concurrency", 16, "sync.concurrency")
	fs.IntVar(&c.baseline, "baseline", 1000, "sessions of the baseline comparison; 0 skips it")
	fs.StringVar(&c.memory, "memory", "10000,100000", "session counts of the memory comparison (no latency); empty skips it")
	fs.Float64Var(&c.rateRPS, "rate", 10, "esm.max_rps of the rate-ceiling check; 0 skips it")
	fs.StringVar(&c.platform, "platform", sandbox.PlatformGeneric, "chat platform to fake: "+strings.Join(sandbox.Platforms(), ", "))
}

// chatRoutes are the fake chat platform's routes of the change listing, a
// session and its messages, and of any other chat request (SuperOffice's
// Associate and Person lookups), as the table counts them.
func chatRoutes(platform string) (list, session, messages string, others []string) {
	if platform == sandbox.PlatformSuperOffice {
		return sandbox.RouteSOListSessions, sandbox.RouteSOGetSession, sandbox.RouteSOGetMessages,
			[]string{sandbox.RouteSOGetAssociate, sandbox.RouteSOGetPerson}
	}
	return sandbox.RouteListSessions, sandbox.RouteGetSession, sandbox.RouteListMessages, nil
}

// benchRow is one measured scenario.
type benchRow struct {
	name        string
	sessions    int
	wall, bound time.Duration
	counts      map[string]int
	peakHeap    uint64
	peakRSS     uint64
	summary     engine.Summary
	note        string
}

func (c *benchCmd) run(ctx context.Context, stop <-chan struct{}) error {
	if err := sandbox.CheckPlatform(c.platform); err != nil {
		return withCode(exitConfig, fmt.Errorf("-platform: %w", err))
	}
	w := c.p.Stdout
	fmt.Fprintf(w, "syncworker bench: %d sessions × %d messages, %d agents, %s latency per request, concurrency %d, GOMAXPROCS %d",
		c.sessions, c.messages, c.agents, c.latency, c.concurrency, runtime.GOMAXPROCS(0))
	if c.platform != sandbox.PlatformGeneric {
		fmt.Fprintf(w, ", chat platform %s", c.platform)
	}
	fmt.Fprint(w, "\n\n")
	var rows []benchRow

	// cold, warm-idle, warm-1% on one sandbox and one state.
	env, err := c.newEnv(c.sessions, c.latency, c.concurrency, false)
	if err != nil {
		return err
	}
	row, err := env.measure(ctx, "cold")
	if err != nil {
		return err
	}
	rows = append(rows, row)
	if row, err = env.measure(ctx, "warm-idle"); err != nil {
		return err
	}
	rows = append(rows, row)
	changed, ended := env.touch(c.sessions/100, c.sessions/500)
	if row, err = env.measure(ctx, "warm-1%"); err != nil {
		return err
	}
	row.note = strings.TrimSuffix(fmt.Sprintf("%d changed, %d ended; %s", changed, ended, row.note), "; ")
	rows = append(rows, row)
	env.close()

	if c.baseline > 0 {
		base, err := c.newEnv(c.baseline, c.latency, 1, true)
		if err != nil {
			return err
		}
		brow, err := base.measure(ctx, "baseline")
		base.close()
		if err != nil {
			return err
		}
		brow.note = strings.TrimSuffix("concurrency 1, no skipping: the way IWChatHistoryDownloadTask works; "+brow.note, "; ")
		norm, err := c.newEnv(c.baseline, c.latency, c.concurrency, false)
		if err != nil {
			return err
		}
		nrow, err := norm.measure(ctx, "cold-"+strconv.Itoa(c.baseline))
		norm.close()
		if err != nil {
			return err
		}
		nrow.note = strings.TrimSuffix(fmt.Sprintf("%.1f× faster than baseline; %s", brow.wall.Seconds()/nrow.wall.Seconds(), nrow.note), "; ")
		rows = append(rows, brow, nrow)
	}
	if c.memory != "" {
		for _, f := range strings.Split(c.memory, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				return withCode(exitConfig, fmt.Errorf("-memory %q: want session counts like 10000,100000", c.memory))
			}
			row, err := c.measureMemory(ctx, n)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
	}
	printBench(w, rows, c.platform)
	if c.rateRPS > 0 {
		return c.rateCheck(ctx, w)
	}
	return nil
}

// benchEnv is a sandbox, a state file and an engine for one series of
// passes.
type benchEnv struct {
	c           *benchCmd
	sb          *localSandbox
	t           *tenant
	cfg         *config.Config
	sandboxHeap uint64
}

func (c *benchCmd) newEnv(sessions int, latency time.Duration, concurrency int, fullScan bool) (*benchEnv, error) {
	sb := sandbox.New(sandbox.Options{Platform: c.platform, ChatToken: sandboxChatToken, Login: sandboxLogin,
		Password: sandboxPassword, RequestLogSize: -1})
	_, err := sb.Generate(sandbox.GenOptions{Sessions: sessions, MessagesPerSession: c.messages, Agents: c.agents,
		Seed: 42, EndedShare: -1})
	if err != nil {
		return nil, err
	}
	sb.SetFaults(sandbox.Everywhere(sandbox.Fault{Latency: latency}))
	local, err := serveLocal(sb)
	if err != nil {
		return nil, err
	}
	// No rate ceilings: the lower bound assumes none.
	cfg, err := local.tenant("bench", fmt.Sprintf("sync:\n  concurrency: %d\n  pass_timeout: 1h\n", concurrency))
	if err != nil {
		local.Close()
		return nil, err
	}
	t, err := c.p.openTenant(context.Background(), cfg, opening{engine: engine.Options{FullScan: fullScan}})
	if err != nil {
		local.Close()
		return nil, err
	}
	runtime.GC()
	return &benchEnv{c: c, sb: local, t: t, cfg: cfg, sandboxHeap: heapBytes()}, nil
}

func (e *benchEnv) close() {
	e.t.Close()
	e.sb.Close()
}

// touch gives n active sessions a new message and ends m others.
func (e *benchEnv) touch(n, m int) (changed, ended int) {
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

// measure runs one pass and what it cost.
func (e *benchEnv) measure(ctx context.Context, name string) (benchRow, error) {
	active := 0
	for _, c := range e.sb.SessionCards() {
		if c.Text(e.cfg.ESM.Attributes.Active) == e.cfg.ESM.ActiveValues.Active.Value {
			active++
		}
	}
	e.sb.ResetStats()
	p, err := timedPass(ctx, e.t)
	if err != nil {
		return benchRow{}, fmt.Errorf("%s: %w", name, err)
	}
	counts := e.sb.Counts()
	total := 0
	for _, n := range counts {
		total += n
	}
	// Discovery (one stream, or a page per 200 cards) and the change
	// listing are sequential; everything else can overlap up to the
	// concurrency.
	list, _, _, others := chatRoutes(e.c.platform)
	discovery := counts[sandbox.RouteStreamCards]
	if discovery == 0 {
		discovery = int(math.Ceil(float64(active) / 200))
	}
	sequential := discovery + counts[list]
	lat := e.sb.Faults().Chat.Latency
	bound := time.Duration(sequential)*lat + time.Duration(total-sequential)*lat/time.Duration(e.cfg.Sync.Concurrency)
	row := benchRow{name: name, sessions: active, wall: p.wall, bound: bound, counts: counts,
		peakHeap: p.peakHeap, peakRSS: p.peakRSS, summary: p.summary}
	var other []string
	for _, r := range others {
		other = append(other, fmt.Sprintf("%s: %d", r, counts[r]))
	}
	row.note = strings.Join(other, ", ")
	return row, nil
}

// measureMemory runs a cold pass over n sessions with no added latency
// against a sandbox in a child process, so that the heap and RSS measured
// are the worker's alone.
func (c *benchCmd) measureMemory(ctx context.Context, n int) (benchRow, error) {
	self, err := os.Executable()
	if err != nil {
		return benchRow{}, err
	}
	if strings.HasSuffix(self, ".test") {
		return benchRow{}, errors.New("the memory scenarios start the syncworker binary as their sandbox; run them from it, not from a test")
	}
	child := exec.CommandContext(ctx, self, "sandbox", "-listen", "127.0.0.1:0", "-log-level", "error", "-platform", c.platform,
		"-sessions", strconv.Itoa(n), "-messages", strconv.Itoa(c.messages), "-agents", strconv.Itoa(c.agents), "-seed", "42")
	stderr, err := child.StderrPipe()
	if err != nil {
		return benchRow{}, err
	}
	if err := child.Start(); err != nil {
		return benchRow{}, err
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	addr, err := sandboxAddr(stderr)
	if err != nil {
		return benchRow{}, fmt.Errorf("sandbox child: %w", err)
	}
	go io.Copy(io.Discard, stderr)
	dir, err := os.MkdirTemp("", "syncworker-bench-")
	if err != nil {
		return benchRow{}, err
	}
	defer os.RemoveAll(dir)
	chat := sandbox.New(sandbox.Options{Platform: c.platform, ChatToken: sandboxChatToken}).ChatConfig("http://" + addr)
	cfg, err := sandboxTenant("bench", addr, dir, chat, fmt.Sprintf("sync:\n  concurrency: %d\n  pass_timeout: 1h\n", c.concurrency))
	if err != nil {
		return benchRow{}, err
	}
	cfg.Chat.MaxRPS, cfg.ESM.MaxRPS = 0, 0
	t, err := c.p.openTenant(ctx, cfg, opening{})
	if err != nil {
		return benchRow{}, err
	}
	defer t.Close()
	p, err := timedPass(ctx, t)
	if err != nil {
		return benchRow{}, err
	}
	return benchRow{name: "memory-" + strconv.Itoa(n), sessions: p.summary.Sessions, wall: p.wall, summary: p.summary,
		peakHeap: p.peakHeap, peakRSS: p.peakRSS, note: "no latency; sandbox in a child process, figures are the worker's"}, nil
}

// passCost is one pass and what it took.
type passCost struct {
	summary           engine.Summary
	wall              time.Duration
	peakHeap, peakRSS uint64
}

// timedPass runs one pass of t, timing it and sampling the peak heap and
// the peak RSS it reached, from a collected heap and a reset RSS peak.
func timedPass(ctx context.Context, t *tenant) (passCost, error) {
	runtime.GC()
	resetPeakRSS()
	var peak atomic.Uint64
	done := make(chan struct{})
	go sampleHeap(&peak, done)
	start := time.Now()
	sum, err := t.engine.Pass(ctx, nil)
	wall := time.Since(start)
	close(done)
	return passCost{summary: sum, wall: wall, peakHeap: peak.Load(), peakRSS: peakRSS()}, err
}

// sandboxAddr reads the address from the sandbox command's first line,
// giving up after 30 seconds.
func sandboxAddr(r io.Reader) (string, error) {
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
	case <-time.After(30 * time.Second):
		return "", errors.New("no address within 30s")
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "sandbox serving on http://")
	if !ok {
		return "", fmt.Errorf("unexpected first line %q", line)
	}
	return addr, nil
}

// rateCheck runs a pass under esm.max_rps and reports the busiest
// one-second window of ESM request starts the sandbox saw.
func (c *benchCmd) rateCheck(ctx context.Context, w io.Writer) error {
	sb := sandbox.New(sandbox.Options{Platform: c.platform, ChatToken: sandboxChatToken, Login: sandboxLogin, Password: sandboxPassword})
	if _, err := sb.Generate(sandbox.GenOptions{Sessions: 60, MessagesPerSession: c.messages, Agents: 20, Seed: 7, EndedShare: -1}); err != nil {
		return err
	}
	local, err := serveLocal(sb)
	if err != nil {
		return err
	}
	defer local.Close()
	cfg, err := local.tenant("rate", fmt.Sprintf("sync:\n  concurrency: %d\n", c.concurrency))
	if err != nil {
		return err
	}
	cfg.Chat.MaxRPS, cfg.ESM.MaxRPS = 0, c.rateRPS
	t, err := c.p.openTenant(ctx, cfg, opening{})
	if err != nil {
		return err
	}
	defer t.Close()
	if _, err := t.engine.Pass(ctx, nil); err != nil {
		return err
	}
	var starts []time.Time
	for _, r := range sb.Requests() {
		if r.API == sandbox.APIESM {
			starts = append(starts, r.Start)
		}
	}
	busiest := maxInWindow(starts, time.Second)
	fmt.Fprintf(w, "\nrate ceiling: esm.max_rps %g, concurrency %d: %d ESM requests; busiest one-second window held %d starts\n",
		c.rateRPS, c.concurrency, len(starts), busiest)
	if float64(busiest) > c.rateRPS {
		return withCode(exitPartial, errors.New("the ESM rate ceiling was exceeded"))
	}
	return nil
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

func printBench(w io.Writer, rows []benchRow, platform string) {
	list, session, messages, _ := chatRoutes(platform)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsessions\tchat GET list\tchat GET session\tchat GET messages\tesm login\tesm GET stream\tesm GET list\tesm PATCH\tesm POST\twall\tbound\twall/bound\tpeak heap\tpeak RSS\t")
	for _, r := range rows {
		count := func(route string) string {
			if r.counts == nil {
				return "-"
			}
			return strconv.Itoa(r.counts[route])
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.sessions,
			count(list), count(session), count(messages),
			count(sandbox.RouteLogin), count(sandbox.RouteStreamCards), count(sandbox.RouteListCards),
			count(sandbox.RoutePatchCard), count(sandbox.RouteCreateCard),
			r.wall.Round(10*time.Millisecond), r.bound.Round(10*time.Millisecond), ratio(r.wall, r.bound),
			mib(r.peakHeap), mib(r.peakRSS))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "%-14s %s", r.name, r.summary)
		if r.note != "" {
			fmt.Fprintf(w, "  (%s)", r.note)
		}
		fmt.Fprintln(w)
	}
}

func ratio(wall, bound time.Duration) string {
	if bound <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", wall.Seconds()/bound.Seconds())
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// heapBytes is the live heap right now.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
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
