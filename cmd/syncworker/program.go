package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/metrics"
)

// Exit statuses of SPEC §2.
const (
	exitOK      = 0
	exitPartial = 1 // the pass finished but some sessions failed, or a signal interrupted it
	exitConfig  = 2 // usage or configuration error; nothing was contacted
	exitFatal   = 3 // login refused, API unreachable, state file unusable
)

// Program is the syncworker command line, apart from the process so that
// tests can run it in-process.
type Program struct {
	Stdout, Stderr io.Writer
	// Hooks are passed to every tenant's engine; tests use them.
	Hooks engine.Hooks
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Ready, when set, receives the sandbox's address once it listens.
	Ready func(addr string)
	// Listening, when set, receives the address run -listen serves on.
	Listening func(addr string)
	// Reload, when set, asks run to read its tenant files again (SIGHUP).
	Reload <-chan struct{}

	// readBuildInfo replaces runtime/debug.ReadBuildInfo in tests.
	readBuildInfo func() (*debug.BuildInfo, bool)
	// terminal, when set, replaces the check whether stderr is a terminal
	// (backfill's progress bar); progressEvery, when not zero, replaces
	// the 30 s between progress log lines.
	terminal      func(io.Writer) bool
	progressEvery time.Duration
	// sink is the logger's writer: stderr, shared with a progress bar.
	sink *logSink

	logger *slog.Logger
	// metrics, when set, receive what the tenants do (run -listen,
	// -metrics-file).
	metrics *metrics.Metrics
	// retryWait, when not zero, replaces the clients' waits between
	// attempts: both back-off bounds and the cap on Retry-After. Tests
	// set it so that a 5xx or 429 is retried at once; zero keeps the
	// httpclient defaults.
	retryWait time.Duration
}

// command is one subcommand.
type command interface {
	// flags registers the command's flags on fs.
	flags(fs *flag.FlagSet)
	// run runs the command after its flags were parsed.
	run(ctx context.Context, stop <-chan struct{}) error
}

// Run runs the command line args and returns the exit status.
func (p *Program) Run(ctx context.Context, stop <-chan struct{}, args []string) int {
	if p.Now == nil {
		p.Now = time.Now
	}
	switch {
	case len(args) == 0:
		writeUsage(p.Stderr)
		return exitConfig
	case isHelpFlag(args[0]):
		writeUsage(p.Stdout)
		return exitOK
	case args[0] == "help":
		return p.help(args[1:])
	case args[0] == "-version" || args[0] == "--version":
		args = []string{"version"}
	}
	cmd, ok := p.command(args[0])
	if !ok {
		fmt.Fprintf(p.Stderr, "syncworker: unknown command %q\n\n", args[0])
		writeUsage(p.Stderr)
		return exitConfig
	}
	fs, logFormat, logLevel := p.flagSet(args[0], cmd)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			h, _ := helpOf(args[0])
			writeCommandHelp(p.Stdout, h, fs)
			return exitOK
		}
		fmt.Fprintf(p.Stderr, "Run 'syncworker %s -h' for its flags.\n", args[0])
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(p.Stderr, "syncworker %s: unexpected argument %q\nRun 'syncworker %s -h' for its flags.\n", args[0], fs.Arg(0), args[0])
		return exitConfig
	}
	p.sink = &logSink{w: p.Stderr}
	logger, err := newLogger(p.sink, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(p.Stderr, "syncworker: %v\n", err)
		return exitConfig
	}
	p.logger = logger
	err = cmd.run(ctx, stop)
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintf(p.Stderr, "syncworker %s: %v\n", args[0], err)
	}
	return exitCode(err)
}

// flagSet returns the flags of the command name: the common ones and
// cmd's. A flag error goes to stderr with a pointer to the help; -h is
// answered by Run, on stdout.
func (p *Program) flagSet(name string, cmd command) (fs *flag.FlagSet, logFormat, logLevel *string) {
	fs = flag.NewFlagSet("syncworker "+name, flag.ContinueOnError)
	fs.SetOutput(p.Stderr)
	fs.Usage = func() {} // Run says what to do after a flag error
	logFormat = fs.String("log-format", "text", "log format on stderr: text or json")
	logLevel = fs.String("log-level", "info", "log level: debug, info, warn or error")
	cmd.flags(fs)
	return fs, logFormat, logLevel
}

// help answers `syncworker help [COMMAND]` on stdout.
func (p *Program) help(args []string) int {
	if len(args) == 0 || isHelpFlag(args[0]) {
		writeUsage(p.Stdout)
		return exitOK
	}
	h, ok := helpOf(args[0])
	if !ok {
		fmt.Fprintf(p.Stderr, "syncworker help: unknown command %q\n\n", args[0])
		writeUsage(p.Stderr)
		return exitConfig
	}
	var fs *flag.FlagSet
	if cmd, ok := p.command(args[0]); ok {
		fs, _, _ = p.flagSet(args[0], cmd)
	}
	writeCommandHelp(p.Stdout, h, fs)
	return exitOK
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func (p *Program) command(name string) (command, bool) {
	switch name {
	case "once":
		return &onceCmd{p: p}, true
	case "run":
		return &runCmd{p: p}, true
	case "backfill":
		return &backfillCmd{p: p}, true
	case "check":
		return &checkCmd{p: p}, true
	case "status":
		return &statusCmd{p: p}, true
	case "sandbox":
		return &sandboxCmd{p: p}, true
	case "demo":
		return &demoCmd{p: p}, true
	case "bench":
		return &benchCmd{p: p}, true
	case "version":
		return &versionCmd{p: p}, true
	}
	return nil, false
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		opts.ReplaceAttr = durationSeconds
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// durationSeconds writes durations in the JSON log as seconds (a float),
// not slog's nanoseconds: what log pipelines and people expect.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}

// exitError carries an exit status with its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errReported is returned when the command already told the user what
// went wrong; it carries only the exit status.
var errReported = errors.New("reported")

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// exitCode maps a command's error to its exit status: configuration errors
// are 2, fatal ones 3, a pass with failed sessions 1.
func exitCode(err error) int {
	var ee *exitError
	var ve *config.ValidationError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ve):
		return exitConfig
	}
	return exitFatal
}

// configList is a repeatable -config flag.
type configList []string

func (c *configList) String() string     { return strings.Join(*c, ",") }
func (c *configList) Set(v string) error { *c = append(*c, v); return nil }

// tenants is what the -config flags named: the tenants that loaded, and
// the files that gave none.
type tenants struct {
	cfgs   []*config.Config
	broken []*config.FileError
}

// code is the exit status the broken files call for.
func (ts tenants) code() int {
	if len(ts.broken) > 0 {
		return exitConfig
	}
	return exitOK
}

// loadConfigs loads every -config. A file that gives no tenant is reported
// on its own, logged and, when out is not nil, as a line on out; the other
// tenants go on without it. Only a missing -config is an error.
func (p *Program) loadConfigs(paths configList, out io.Writer) (tenants, error) {
	if len(paths) == 0 {
		return tenants{}, withCode(exitConfig, errors.New("-config is required"))
	}
	cfgs, broken := config.LoadEach(paths)
	for _, b := range broken {
		p.reportBroken(b)
		if out != nil {
			fmt.Fprintf(out, "file=%s error=%s\n", quoteIfNeeded(b.File), strconv.Quote(b.Error()))
		}
	}
	return tenants{cfgs: cfgs, broken: broken}, nil
}

// reportBroken logs a tenant file that gives no tenant.
func (p *Program) reportBroken(b *config.FileError) {
	p.logger.Error("tenant file unusable: nothing is contacted for it; the other tenants go on", "file", b.File, "err", b.Error())
}

// quoteIfNeeded quotes s when it would not read as one key=value field.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\r\n\"=") {
		return strconv.Quote(s)
	}
	return s
}

// exitWith returns the error that makes Run exit with code, after the
// command reported what went wrong itself.
func exitWith(code int) error {
	if code == exitOK {
		return nil
	}
	return withCode(code, errReported)
}
