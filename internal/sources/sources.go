// Package sources builds the chat source a tenant's chat.platform names:
// the one place that knows every adapter under internal/source. The command
// line, the benchmark and the end-to-end tests build their sources here.
package sources

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/ccai"
	"github.com/syncworker/syncworker/internal/source/generic"
	"github.com/syncworker/syncworker/internal/source/genesys"
	"github.com/syncworker/syncworker/internal/source/superoffice"
)

// Env is what an adapter needs beyond its tenant's config.
type Env struct {
	// HTTP is the shared transport policy for the platform's API, built
	// from the chat block's common keys; tests shorten its waits.
	HTTP httpclient.Options
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Cache is where an adapter keeps its lookups and what it must
	// remember about sessions between runs: the tenant's state file. nil
	// keeps them in memory, for this process only.
	Cache source.Cache
}

// factory builds the source adapter of one chat platform.
type factory func(cfg *config.Config, env Env) (source.Source, error)

// factories maps chat.platform to its adapter: adding a platform is one
// line here, its package under internal/source, its fake under
// internal/sandbox and its block in internal/config.
var factories = map[string]factory{
	"ccai-platform": newCCAI,
	"generic":       newGeneric,
	"genesys-cloud": newGenesys,
	"superoffice":   newSuperOffice,
}

// Names lists the platforms this build can speak.
func Names() []string {
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether this build speaks platform.
func Has(platform string) bool { return slices.Contains(Names(), platform) }

// New builds the source adapter cfg asks for. log, when not nil, is the
// transport's logger.
func New(cfg *config.Config, log *slog.Logger, env Env) (source.Source, error) {
	build, ok := factories[cfg.Chat.Platform]
	if !ok {
		return nil, fmt.Errorf("%s: chat.platform %q: not available in this syncworker", cfg.File, cfg.Chat.Platform)
	}
	h := env.HTTP
	h.Timeout, h.MaxRPS, h.CAFile = cfg.Chat.Timeout, cfg.Chat.MaxRPS, cfg.Chat.CAFile
	if h.MaxConns == 0 {
		h.MaxConns = cfg.Sync.Concurrency
	}
	if log != nil {
		h.Logger = log.With("api", "chat", "platform", cfg.Chat.Platform)
	}
	env.HTTP = h
	return build(cfg, env)
}

// SetCache gives src the cache its adapter keeps lookups and per-session
// facts in, when it keeps any: the state file, which the command line opens
// after building the source (a tenant whose config does not build creates
// no state). Call it before the source is first used.
func SetCache(src source.Source, c source.Cache) {
	if s, ok := src.(interface{ SetCache(source.Cache) }); ok && c != nil {
		s.SetCache(c)
	}
}

func newGeneric(cfg *config.Config, env Env) (source.Source, error) {
	return generic.New(generic.Options{
		BaseURL:  cfg.Chat.BaseURL,
		Token:    string(cfg.Chat.Token),
		PageSize: cfg.Chat.PageSize,
		Now:      env.Now,
		HTTP:     env.HTTP,
	})
}

func newGenesys(cfg *config.Config, env Env) (source.Source, error) {
	g := cfg.Chat.Genesys
	return genesys.New(genesys.Options{
		BaseURL:                cfg.Chat.BaseURL,
		LoginURL:               g.LoginURL,
		ClientID:               g.ClientID,
		ClientSecret:           string(g.ClientSecret),
		CustomerEmailAttribute: g.CustomerEmailAttribute,
		MessageTypes:           g.MessageTypes,
		PageSize:               min(cfg.Chat.PageSize, genesys.DefaultPageSize),
		Now:                    env.Now,
		HTTP:                   env.HTTP,
		Cache:                  env.Cache,
	})
}

func newSuperOffice(cfg *config.Config, env Env) (source.Source, error) {
	so := cfg.Chat.SuperOffice
	return superoffice.New(superoffice.Options{
		BaseURL:     cfg.Chat.BaseURL,
		Token:       string(cfg.Chat.Token),
		AuthScheme:  so.AuthScheme,
		AppToken:    string(so.AppToken),
		BotNames:    so.BotNames,
		ReopenGrace: so.ReopenGrace,
		PageSize:    cfg.Chat.PageSize,
		Cache:       env.Cache,
		Logger:      env.HTTP.Logger,
		Now:         env.Now,
		HTTP:        env.HTTP,
	})
}

func newCCAI(cfg *config.Config, env Env) (source.Source, error) {
	c := cfg.Chat.CCAI
	secrets := make([]string, len(c.EventsSecrets))
	for i, s := range c.EventsSecrets {
		secrets[i] = string(s)
	}
	return ccai.New(ccai.Options{
		BaseURL:        cfg.Chat.BaseURL,
		Subdomain:      c.Subdomain,
		Token:          string(cfg.Chat.Token),
		TranscriptsDir: c.TranscriptsDir,
		EventsSecrets:  secrets,
		PollAfter:      c.PollAfter,
		TranscriptWait: c.TranscriptWait,
		Cache:          env.Cache,
		Logger:         env.HTTP.Logger,
		Now:            env.Now,
		HTTP:           env.HTTP,
	})
}
