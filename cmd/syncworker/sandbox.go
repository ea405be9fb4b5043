package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// Credentials of the sandbox's two APIs; they guard nothing real.
const (
	sandboxChatToken = "sandbox-chat-token"
	sandboxLogin     = "sandbox"
	sandboxPassword  = "sandbox-password"
)

// sandboxCmd serves the fake chat platform and fake ESM (SPEC §7).
type sandboxCmd struct {
	p        *Program
	fs       *flag.FlagSet
	listen   string
	data     string
	sessions int
	messages int
	agents   int
	seed     uint64
	tokenTTL time.Duration
	fault    sandbox.Fault
	platform string
	noCards  bool

	writeConfig string
	tenant      string
	statePath   string
	timezone    string

	churn         bool
	churnInterval time.Duration
	// ccaiEvents and transcripts: where the CCAI Platform fake posts its
	// events and drops its transcripts.
	ccaiEvents, transcripts string
}

func (c *sandboxCmd) flags(fs *flag.FlagSet) {
	c.fs = fs
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address to serve on (port 0: any free port)")
	fs.StringVar(&c.platform, "platform", sandbox.PlatformGeneric, "chat platform to fake: "+strings.Join(sandbox.Platforms(), ", "))
	fs.StringVar(&c.data, "data", "", "load transcripts from this directory (DIR/<case>/session.json, messages.json)")
	fs.IntVar(&c.sessions, "sessions", 0, "generate this many sessions (default 20 when -data is not given)")
	fs.IntVar(&c.messages, "messages", 20, "messages per generated session (at least 2)")
	fs.IntVar(&c.agents, "agents", 5, "agents in the generated pool")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated data and of -churn")
	fs.BoolVar(&c.noCards, "no-cards", false, "give the sessions no chat-session cards, as before a backfill (which creates them)")
	fs.DurationVar(&c.tokenTTL, "token-ttl", time.Hour, "lifetime of ESM tokens")
	fs.DurationVar(&c.fault.Latency, "latency", 0, "latency added to every request")
	fs.Float64Var(&c.fault.ServerErrorShare, "error-share", 0, "share of requests answered with 5xx (0..1)")
	fs.Float64Var(&c.fault.RateLimitShare, "rate-limit-share", 0, "share of requests answered with 429 (0..1)")
	fs.IntVar(&c.fault.RetryAfter, "retry-after", 1, "Retry-After of a 429, in seconds")
	fs.Float64Var(&c.fault.MalformedShare, "malformed-share", 0, "share of answers with a broken JSON body (0..1)")
	fs.StringVar(&c.ccaiEvents, "events-url", "", "ccai-platform: post signed chat events to this URL (run -listen's /events/ccai/<tenant>)")
	fs.StringVar(&c.transcripts, "transcripts", "", "ccai-platform: drop transcript files into this directory (default a temporary one)")
	fs.StringVar(&c.writeConfig, "write-config", "", "write the tenant file for this sandbox to FILE (mode 0600); - prints it alone on stdout")
	fs.StringVar(&c.tenant, "tenant", "sandbox", "tenant name in the tenant file")
	fs.StringVar(&c.statePath, "state-path", "", "state_path in the tenant file (default ./state/<tenant>.db)")
	fs.StringVar(&c.timezone, "timezone", "Europe/Helsinki", "timezone in the tenant file: how chat-log times are shown")
	fs.BoolVar(&c.churn, "churn", false, "keep adding messages, ending sessions and opening new ones (with cards unless -no-cards) while serving")
	fs.DurationVar(&c.churnInterval, "churn-interval", 10*time.Second, "time between two rounds of -churn")
}

// validate checks the flags before anything is served; its errors name
// the flag.
func (c *sandboxCmd) validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s: "+format, append([]any{flag}, args...)...))
	}
	if _, _, err := net.SplitHostPort(c.listen); err != nil {
		bad("listen", "%q is not host:port", c.listen)
	}
	if err := sandbox.CheckPlatform(c.platform); err != nil || c.platform == "" {
		bad("platform", "no fake of chat platform %q; the sandbox has %s", c.platform, strings.Join(sandbox.Platforms(), ", "))
	}
	if c.data != "" {
		if fi, err := os.Stat(c.data); err != nil || !fi.IsDir() {
			bad("data", "%s is not a directory", c.data)
		}
	}
	for _, n := range []struct {
		flag     string
		v, least int
	}{{"sessions", c.sessions, 0}, {"messages", c.messages, 2}, {"agents", c.agents, 1}, {"retry-after", c.fault.RetryAfter, 0}} {
		if n.v < n.least {
			bad(n.flag, "%d is below %d", n.v, n.least)
		}
	}
	for _, sh := range []struct {
		flag string
		v    float64
	}{{"error-share", c.fault.ServerErrorShare}, {"rate-limit-share", c.fault.RateLimitShare}, {"malformed-share", c.fault.MalformedShare}} {
		if !(sh.v >= 0 && sh.v <= 1) {
			bad(sh.flag, "%v is not a share between 0 and 1", sh.v)
		}
	}
	if c.fault.Latency < 0 {
		bad("latency", "%v is negative", c.fault.Latency)
	}
	if c.tokenTTL < time.Second {
		bad("token-ttl", "%v is shorter than a second (tokens expire in whole seconds)", c.tokenTTL)
	}
	if c.churnInterval <= 0 {
		bad("churn-interval", "%v is not a positive duration", c.churnInterval)
	} else if c.set("churn-interval") && !c.churn {
		bad("churn-interval", "has no effect without -churn")
	}
	if c.writeConfig != "" && c.writeConfig != "-" {
		if fi, err := os.Stat(filepath.Dir(c.writeConfig)); err != nil || !fi.IsDir() {
			bad("write-config", "directory %s does not exist", filepath.Dir(c.writeConfig))
		}
	}
	if len(errs) == 0 {
		// The tenant flags are checked by the config loader itself, on the
		// file the sandbox would print.
		sb := sandbox.New(sandbox.Options{Platform: c.platform})
		if _, err := c.tenantFile("127.0.0.1:1", sb); err != nil {
			errs = append(errs, err)
		}
		sb.Close()
	}
	return errors.Join(errs...)
}

// set reports whether the flag name was given on the command line.
func (c *sandboxCmd) set(name string) bool {
	found := false
	c.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// tenantFile is the tenant file pointing at sb served on addr, checked by
// the config loader.
func (c *sandboxCmd) tenantFile(addr string, sb *sandbox.Server) (string, error) {
	statePath := c.statePath
	if statePath == "" {
		statePath = "./state/" + c.tenant + ".db"
	}
	yaml := sandboxTenantFile(c.tenant, c.timezone, addr, statePath, sb.ChatConfig("http://"+addr))
	if _, err := config.Parse(strings.NewReader(yaml), "the sandbox's tenant file", func(string) (string, bool) { return "", false }); err != nil {
		return "", fmt.Errorf("-tenant, -state-path or -timezone: %w", err)
	}
	return yaml, nil
}

func (c *sandboxCmd) run(ctx context.Context, stop <-chan struct{}) error {
	if err := c.validate(); err != nil {
		return withCode(exitConfig, err)
	}
	sb := sandbox.New(sandbox.Options{
		Platform:  c.platform,
		ChatToken: sandboxChatToken, Login: sandboxLogin, Password: sandboxPassword, TokenTTL: c.tokenTTL,
		Faults:         sandbox.Faults{Chat: c.fault, ESM: c.fault},
		TranscriptsDir: c.transcripts,
	})
	defer sb.Close()
	if fake := sb.CCAI(); fake != nil && c.ccaiEvents != "" {
		fake.SetWebhook(c.ccaiEvents, "")
		go c.publishCCAI(ctx, stop, fake)
	}
	if err := c.fill(sb); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return withCode(exitFatal, err)
	}
	addr := ln.Addr().String()
	if err := c.announce(addr, sb); err != nil {
		ln.Close()
		return err
	}
	if c.p.Ready != nil {
		c.p.Ready(addr)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.churn {
		go c.runChurn(ctx, sb)
	}
	return serveUntil(ctx, stop, ln, sb)
}

// fill adds the sessions, cards and people the flags ask for.
func (c *sandboxCmd) fill(sb *sandbox.Server) error {
	if c.data != "" {
		n, err := sb.LoadDir(c.data)
		if err == nil && c.platform == sandbox.PlatformSuperOffice {
			var k int
			k, err = sb.LoadSuperOfficeDir(c.data)
			n += k
		}
		if err != nil {
			return withCode(exitConfig, fmt.Errorf("-data: %w", err))
		}
		c.p.logger.Info("loaded transcripts", "cases", n, "dir", c.data)
	}
	if c.sessions > 0 || c.data == "" {
		n := c.sessions
		if n == 0 {
			n = 20
		}
		sum, err := sb.Generate(sandbox.GenOptions{Sessions: n, MessagesPerSession: c.messages, Agents: c.agents, Seed: c.seed, NoCards: c.noCards})
		if err != nil {
			return withCode(exitConfig, err)
		}
		c.p.logger.Info("generated sessions", "sessions", sum.Sessions, "messages", sum.Messages, "ended", sum.Ended, "cards", sum.Cards)
	}
	if c.noCards {
		// Loaded cases come with their cards; a backfill is to make them.
		for _, card := range sb.SessionCards() {
			sb.DeleteCard(card.ID)
		}
	}
	return nil
}

// announce tells where the sandbox serves and gives its tenant file: on
// stderr, in the file -write-config names, or alone on stdout.
func (c *sandboxCmd) announce(addr string, sb *sandbox.Server) error {
	yaml, err := c.tenantFile(addr, sb)
	if err != nil {
		return withCode(exitConfig, err)
	}
	fmt.Fprintf(c.p.Stderr, "sandbox serving on http://%s\n", addr)
	switch c.writeConfig {
	case "":
		fmt.Fprintf(c.p.Stderr, "\n%s", yaml)
	case "-":
		_, err = io.WriteString(c.p.Stdout, yaml)
	default:
		if err = os.WriteFile(c.writeConfig, []byte(yaml), 0o600); err == nil {
			err = os.Chmod(c.writeConfig, 0o600) // an existing file keeps its mode otherwise
		}
		if err == nil {
			fmt.Fprintf(c.p.Stderr, "tenant file written to %s\n", c.writeConfig)
		}
	}
	if err != nil {
		return withCode(exitFatal, fmt.Errorf("-write-config: %w", err))
	}
	return nil
}

// runChurn changes the sandbox's data every -churn-interval until ctx ends.
func (c *sandboxCmd) runChurn(ctx context.Context, sb *sandbox.Server) {
	ch := sb.NewChurner(sandbox.ChurnOptions{Agents: c.agents, NoCards: c.noCards, Seed: c.seed})
	c.p.logger.Info("churn: changing sessions while serving", "interval", c.churnInterval)
	ch.Run(ctx, c.churnInterval, func(s sandbox.ChurnStep, err error) {
		if err != nil {
			c.p.logger.Error("churn step failed", "err", err)
			return
		}
		c.p.logger.Info("churn step", "messages", s.Messages, "sessions_talked", s.Talked, "ended", s.Ended,
			"opened", s.Opened, "cards", s.Cards)
	})
}

// serveUntil serves h on ln until stop is closed or ctx ends.
func serveUntil(ctx context.Context, stop <-chan struct{}, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		select {
		case <-stop:
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return withCode(exitFatal, err)
	}
	return nil
}

// localSandbox is a sandbox served by this process on a loopback port,
// with a temporary directory for the state of the tenants that use it.
type localSandbox struct {
	*sandbox.Server
	local *sandbox.Local
}

// serveLocal serves sb on a loopback port until Close.
func serveLocal(sb *sandbox.Server) (*localSandbox, error) {
	l, err := sandbox.ServeLocal(sb, "syncworker-")
	if err != nil {
		return nil, err
	}
	return &localSandbox{Server: sb, local: l}, nil
}

// Close stops serving and removes the state directory.
func (l *localSandbox) Close() { l.local.Close() }

// tenant is the configuration of a tenant named name against l, with
// extra YAML appended. The sandbox runs in this process: there are no rate
// ceilings to respect.
func (l *localSandbox) tenant(name, extra string) (*config.Config, error) {
	cfg, err := sandboxTenant(name, l.local.Addr, l.local.Dir, l.ChatConfig("http://"+l.local.Addr), extra)
	if err != nil {
		return nil, err
	}
	cfg.Chat.MaxRPS, cfg.ESM.MaxRPS = 0, 0
	return cfg, nil
}

// sandboxTenant parses the configuration of a tenant named name against a
// sandbox at addr serving the chat block chat, its state under dir, with
// extra YAML appended.
func sandboxTenant(name, addr, dir, chat, extra string) (*config.Config, error) {
	yaml := sandboxConfigWith(name, addr, filepath.Join(dir, name+".db"), chat) + extra
	cfg, err := config.Parse(strings.NewReader(yaml), name+".yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", name, err)
	}
	return cfg, nil
}

// sandboxConfig is a tenant file pointing at a sandbox on addr that
// fakes the generic platform.
func sandboxConfig(tenant, addr, statePath string) string {
	chat := fmt.Sprintf("chat:\n  base_url: http://%s/chat/api/v1\n  token: %s\n", addr, sandboxChatToken)
	return sandboxConfigWith(tenant, addr, statePath, chat)
}

// sandboxConfigWith is a tenant file pointing at a sandbox on addr whose
// chat platform is the chat block chat (Server.ChatConfig).
func sandboxConfigWith(tenant, addr, statePath, chat string) string {
	return sandboxTenantFile(tenant, "", addr, statePath, chat)
}

// sandboxTenantFile is sandboxConfigWith with a timezone line, when tz is
// not empty.
func sandboxTenantFile(tenant, tz, addr, statePath, chat string) string {
	if tz != "" {
		tz = "timezone: " + tz + "\n"
	}
	return fmt.Sprintf(`# A tenant config for this sandbox:
tenant: %s
schedule: "* * * * *"
%sstate_path: %s
%sesm:
  base_url: http://%s/rest-api/itsm/v1
  login: %s
  password: %s
  template: chat_session
  folder: chat_sessions
`, tenant, tz, statePath, chat, addr, sandboxLogin, sandboxPassword)
}

// publishCCAI posts the CCAI Platform fake's events every few seconds:
// those the worker's listener was not up for yet, and those of sessions
// that changed.
func (c *sandboxCmd) publishCCAI(ctx context.Context, stop <-chan struct{}, fake *sandbox.CCAIFake) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := fake.Publish(); err != nil {
			c.p.logger.Warn("ccai events not delivered yet; trying again", "url", c.ccaiEvents, "err", err)
		}
	}
}
