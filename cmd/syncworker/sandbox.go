package main

import (
	"os"
	"path/filepath"
	"strings"

	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/syncworker/syncworker/internal/config"
	"net"
	"net/http"
	"time"

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
	listen   string
	data     string
	sessions int
	messages int
	agents   int
	seed     uint64
	tokenTTL time.Duration
	fault    sandbox.Fault
	platform string
	// ccaiEvents and transcripts: where the CCAI Platform fake posts its
	// events and drops its transcripts.
	ccaiEvents, transcripts string
}

func (c *sandboxCmd) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address to serve on")
	fs.StringVar(&c.platform, "platform", sandbox.PlatformGeneric, "chat platform to fake: "+strings.Join(sandbox.Platforms(), ", "))
	fs.StringVar(&c.data, "data", "", "load transcripts from this directory (DIR/<case>/session.json, messages.json)")
	fs.IntVar(&c.sessions, "sessions", 0, "generate this many sessions (default 20 when -data is not given)")
	fs.IntVar(&c.messages, "messages", 20, "messages per generated session")
	fs.IntVar(&c.agents, "agents", 5, "agents in the generated pool")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated data")
	fs.DurationVar(&c.tokenTTL, "token-ttl", time.Hour, "lifetime of ESM tokens")
	fs.DurationVar(&c.fault.Latency, "latency", 0, "latency added to every request")
	fs.Float64Var(&c.fault.ServerErrorShare, "error-share", 0, "share of requests answered with 5xx (0..1)")
	fs.Float64Var(&c.fault.RateLimitShare, "rate-limit-share", 0, "share of requests answered with 429 (0..1)")
	fs.IntVar(&c.fault.RetryAfter, "retry-after", 1, "Retry-After of a 429, in seconds")
	fs.Float64Var(&c.fault.MalformedShare, "malformed-share", 0, "share of answers with a broken JSON body (0..1)")
	fs.StringVar(&c.ccaiEvents, "events-url", "", "ccai-platform: post signed chat events to this URL (run -listen's /events/ccai/<tenant>)")
	fs.StringVar(&c.transcripts, "transcripts", "", "ccai-platform: drop transcript files into this directory (default a temporary one)")
}

func (c *sandboxCmd) run(ctx context.Context, stop <-chan struct{}) error {
	if err := sandbox.CheckPlatform(c.platform); err != nil {
		return withCode(exitConfig, fmt.Errorf("-platform: %w", err))
	}
	sb := sandbox.New(sandbox.Options{
		Platform:  c.platform,
		ChatToken: sandboxChatToken, Login: sandboxLogin, Password: sandboxPassword, TokenTTL: c.tokenTTL,
		Faults:         sandbox.Faults{Chat: c.fault, ESM: c.fault},
		TranscriptsDir: c.transcripts,
	})
	if fake := sb.CCAI(); fake != nil && c.ccaiEvents != "" {
		fake.SetWebhook(c.ccaiEvents, "")
		go c.publishCCAI(ctx, stop, fake)
	}
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
		sum, err := sb.Generate(sandbox.GenOptions{Sessions: n, MessagesPerSession: c.messages, Agents: c.agents, Seed: c.seed})
		if err != nil {
			return withCode(exitConfig, err)
		}
		c.p.logger.Info("generated sessions", "sessions", sum.Sessions, "messages", sum.Messages, "ended", sum.Ended)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return withCode(exitFatal, err)
	}
	addr := ln.Addr().String()
	fmt.Fprintf(c.p.Stderr, "sandbox serving on http://%s\n\n%s", addr,
		sandboxConfigWith("sandbox", addr, "./state/sandbox.db", sb.ChatConfig("http://"+addr)))
	if c.p.Ready != nil {
		c.p.Ready(addr)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
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
	srv  *http.Server
	addr string
	dir  string
}

// serveLocal serves sb on a loopback port until Close.
func serveLocal(sb *sandbox.Server) (*localSandbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "syncworker-")
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &localSandbox{Server: sb, srv: srv, addr: ln.Addr().String(), dir: dir}, nil
}

// Close stops serving and removes the state directory.
func (l *localSandbox) Close() {
	l.srv.Close()
	os.RemoveAll(l.dir)
}

// tenant is the configuration of a tenant named name against l, with
// extra YAML appended. The sandbox runs in this process: there are no rate
// ceilings to respect.
func (l *localSandbox) tenant(name, extra string) (*config.Config, error) {
	cfg, err := sandboxTenant(name, l.addr, l.dir, l.ChatConfig("http://"+l.addr), extra)
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
	return fmt.Sprintf(`# A tenant config for this sandbox:
tenant: %s
schedule: "* * * * *"
state_path: %s
%sesm:
  base_url: http://%s/rest-api/itsm/v1
  login: %s
  password: %s
  template: chat_session
  folder: chat_sessions
`, tenant, statePath, chat, addr, sandboxLogin, sandboxPassword)
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
