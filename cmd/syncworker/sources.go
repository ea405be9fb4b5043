package main

import (
	"fmt"
	"log/slog"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/generic"
)

// sourceFactory builds the source adapter of one chat platform from a
// tenant's config. http is the shared transport policy for the platform's
// API, built from the chat block's common keys.
type sourceFactory func(cfg *config.Config, http httpclient.Options, p *Program) (source.Source, error)

// sources maps chat.platform to its adapter: adding a platform is one line
// here, its package under internal/source, its fake under internal/sandbox
// and its block in internal/config.
var sources = map[string]sourceFactory{
	"generic": newGeneric,
}

// newSource builds the source adapter cfg asks for.
func (p *Program) newSource(cfg *config.Config, log *slog.Logger) (source.Source, error) {
	build, ok := sources[cfg.Chat.Platform]
	if !ok {
		return nil, fmt.Errorf("%s: chat.platform %q: not available in this syncworker", cfg.File, cfg.Chat.Platform)
	}
	return build(cfg, httpclient.Options{
		Timeout:  cfg.Chat.Timeout,
		MaxRPS:   cfg.Chat.MaxRPS,
		CAFile:   cfg.Chat.CAFile,
		MaxConns: cfg.Sync.Concurrency,
		Logger:   log.With("api", "chat", "platform", cfg.Chat.Platform),
		MinWait:  p.retryWait, MaxWait: p.retryWait, MaxRetryAfter: p.retryWait,
	}, p)
}

func newGeneric(cfg *config.Config, http httpclient.Options, p *Program) (source.Source, error) {
	return generic.New(generic.Options{
		BaseURL:  cfg.Chat.BaseURL,
		Token:    string(cfg.Chat.Token),
		PageSize: cfg.Chat.PageSize,
		Now:      p.Now,
		HTTP:     http,
	})
}
