package main

import (
	"errors"
	"log/slog"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
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
}

// openTenant opens cfg's state file and builds its clients. Nothing is
// contacted yet.
func (p *Program) openTenant(cfg *config.Config) (*tenant, error) {
	return p.openTenantWith(cfg, engine.Options{})
}

// openTenantWith is openTenant with engine options beyond the wiring (the
// benchmark's FullScan).
func (p *Program) openTenantWith(cfg *config.Config, o engine.Options) (*tenant, error) {
	log := p.logger.With("tenant", cfg.Tenant)
	chat, esmc, err := p.clients(cfg, log)
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	store, err := state.Open(cfg.StatePath)
	if err != nil {
		return nil, withCode(exitFatal, err)
	}
	o.Source, o.ESM, o.Store, o.Logger, o.Now, o.Hooks = chat, esmc, store, p.logger, p.Now, p.Hooks
	eng := engine.New(cfg, o)
	return &tenant{cfg: cfg, store: store, chat: chat, esm: esmc, engine: eng, log: log}, nil
}

// clients builds the chat source and the ESM client of cfg.
func (p *Program) clients(cfg *config.Config, log *slog.Logger) (source.Source, *esm.Client, error) {
	chat, err := p.newSource(cfg, log)
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
		},
	})
	return chat, esmc, err
}

func (t *tenant) Close() error { return t.store.Close() }

// outcomeCode is the exit status of one tenant's pass.
func outcomeCode(s engine.Summary, err error) int {
	var fe *engine.FatalError
	switch {
	case errors.As(err, &fe):
		return exitFatal
	case err != nil:
		return exitCode(err)
	case s.Failed > 0:
		return exitPartial
	}
	return exitOK
}
