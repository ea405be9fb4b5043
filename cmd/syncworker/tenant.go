package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/sources"
	"github.com/syncworker/syncworker/internal/state"
)

// tenant is one configured tenant wired up: its state, clients and engine.
type tenant struct {
	cfg    *config.Config
	store  *state.Store
	chat   source.Source
	esm    *esm.Client
	engine *engine.Engine
	log    *slog.Logger
	// creds is the credentials stamp the engine was given.
	creds string
}

// opening says how a tenant is opened beyond its config.
type opening struct {
	// reset forgets what the state knows (-reset-state) instead of
	// refusing a state file bound to other systems.
	reset bool
	// engine holds engine options beyond the wiring (the benchmark's
	// FullScan).
	engine engine.Options
	// progress, when set, gives each tenant's backfill progress.
	progress func(tenant string) engine.Progress
}

// openTenant opens cfg's state file, checks that it belongs to the
// configured systems, and builds the clients. Nothing is contacted yet.
func (p *Program) openTenant(ctx context.Context, cfg *config.Config, o opening) (*tenant, error) {
	log := p.logger.With("tenant", cfg.Tenant)
	chat, esmc, err := p.clients(cfg, log)
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	store, err := state.Open(cfg.StatePath)
	p.recordStateProblem(cfg.Tenant, err)
	if err != nil {
		return nil, withCode(exitFatal, err)
	}
	if err := bindState(ctx, store, cfg, o.reset, log); err != nil {
		store.Close()
		return nil, withCode(exitFatal, err)
	}
	sources.SetCache(chat, store)
	eo := o.engine
	eo.Source, eo.ESM, eo.Store, eo.Logger, eo.Now, eo.Hooks = chat, esmc, store, p.logger, p.Now, p.Hooks
	eo.CredentialsStamp = credentialsStamp(cfg)
	if p.metrics != nil {
		eo.Observer = engineObserver{p.metrics, cfg.Tenant}
	}
	if o.progress != nil {
		eo.Progress = o.progress(cfg.Tenant)
	}
	eng := engine.New(cfg, eo)
	return &tenant{cfg: cfg, store: store, chat: chat, esm: esmc, engine: eng, log: log, creds: eo.CredentialsStamp}, nil
}

// credentialsStamp describes where cfg's ESM credentials come from without
// holding them: the modification time and size of the tenant file and, when
// set, of esm.password_file. Someone who fixes a refused password edits
// one of them, and the stamp changes; the engine then tries the login
// again without waiting out its back-off. Neither the secret nor a hash of
// it goes in: the stamp may be stored and logged.
func credentialsStamp(cfg *config.Config) string {
	stamp := fileStamp("file", cfg.File)
	if cfg.ESM.PasswordFile != "" {
		stamp += " " + fileStamp("esm.password_file", cfg.ESM.PasswordFile)
	}
	return stamp
}

// fileStamp is "key=<mtime in ns>/<size>", or "key=missing" when name
// cannot be read.
func fileStamp(key, name string) string {
	fi, err := os.Stat(name)
	if err != nil {
		return key + "=missing"
	}
	return fmt.Sprintf("%s=%d/%d", key, fi.ModTime().UnixNano(), fi.Size())
}

// identity names the systems cfg syncs between.
func identity(cfg *config.Config) state.Identity {
	return state.Identity{ESM: cfg.ESM.BaseURL, Template: cfg.ESM.Template, Platform: cfg.Chat.Platform, Chat: cfg.Chat.BaseURL}
}

// bindState makes sure the state's cursors and written values are about
// cfg's systems: a state made against another ESM or platform would take
// their cards for written. With reset it forgets them instead.
func bindState(ctx context.Context, store *state.Store, cfg *config.Config, reset bool, log *slog.Logger) error {
	if !reset {
		return store.Bind(ctx, identity(cfg))
	}
	if err := store.Reset(ctx, identity(cfg)); err != nil {
		return fmt.Errorf("state %s: reset: %w", cfg.StatePath, err)
	}
	log.Warn("state reset (-reset-state): its cursors and written values are forgotten; every active card will be written again",
		"state", cfg.StatePath)
	return nil
}

// clients builds the chat source and the ESM client of cfg.
func (p *Program) clients(cfg *config.Config, log *slog.Logger) (source.Source, *esm.Client, error) {
	env := sources.Env{Now: p.Now}
	env.HTTP.MinWait, env.HTTP.MaxWait, env.HTTP.MaxRetryAfter = p.retryWait, p.retryWait, p.retryWait
	if p.metrics != nil {
		env.HTTP.Observer = transportObserver{p.metrics, cfg.Tenant, "chat"}
	}
	chat, err := sources.New(cfg, log, env)
	if err != nil {
		return nil, nil, err
	}
	esmc, err := esm.New(esm.Options{
		BaseURL:  cfg.ESM.BaseURL,
		Login:    cfg.ESM.Login,
		Password: string(cfg.ESM.Password),
		Now:      p.Now,
		Logger:   log.With("api", "esm"),
		HTTP: httpclient.Options{
			Timeout:  cfg.ESM.Timeout,
			MaxRPS:   cfg.ESM.MaxRPS,
			CAFile:   cfg.ESM.CAFile,
			MaxConns: cfg.Sync.Concurrency,
			Logger:   log.With("api", "esm"),
			Observer: p.esmObserver(cfg.Tenant),
			MinWait:  p.retryWait, MaxWait: p.retryWait, MaxRetryAfter: p.retryWait,
		},
	})
	return chat, esmc, err
}

// esmObserver is the metrics observer of a tenant's ESM client; nil
// without metrics.
func (p *Program) esmObserver(tenant string) httpclient.Observer {
	if p.metrics == nil {
		return nil
	}
	return transportObserver{p.metrics, tenant, "esm"}
}

func (t *tenant) Close() error { return t.store.Close() }

// outcomeCode is the exit status of one tenant's pass. A pass a signal
// interrupted is 1 like one with failed sessions: it did not look at every
// session, and must not pass for complete.
func outcomeCode(s engine.Summary, err error) int {
	var fe *engine.FatalError
	switch {
	case errors.As(err, &fe):
		return exitFatal
	case err != nil:
		return exitCode(err)
	case s.Failed > 0, s.Interrupted:
		return exitPartial
	}
	return exitOK
}
