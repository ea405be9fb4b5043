package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/go-co-op/gocron/v2"

	"github.com/syncworker/syncworker/internal/config"
)

// fingerprint identifies what a tenant was loaded from: the file's name and
// bytes, and those of the secret and CA files it names. A reload replaces a
// tenant whose fingerprint changed. It is a hash: no secret is kept.
func fingerprint(cfg *config.Config) string {
	h := sha256.New()
	add := func(key, name string) {
		io.WriteString(h, key+"\x00"+name+"\x00")
		if f, err := os.Open(name); err == nil {
			io.Copy(h, io.LimitReader(f, 1<<20))
			f.Close()
		} else {
			io.WriteString(h, "missing")
		}
		io.WriteString(h, "\x00")
	}
	add("file", cfg.File)
	keys := make([]string, 0, len(cfg.SecretFiles))
	for k := range cfg.SecretFiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, cfg.SecretFiles[k])
	}
	for _, ca := range []string{cfg.Chat.CAFile, cfg.ESM.CAFile} {
		if ca != "" {
			add("ca", ca)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// reload reads the tenant files again (SIGHUP) and applies what changed:
// a new tenant is scheduled, a tenant whose files changed is replaced (its
// running pass finishes first), a tenant no file names any more is
// stopped. A file that no longer loads keeps the tenant it gave running
// with its old settings, and is reported.
func (c *runCmd) reload(s gocron.Scheduler) {
	cfgs, broken := config.LoadEach(c.configs)
	brokenFiles := map[string]bool{}
	for _, b := range broken {
		brokenFiles[b.File] = true
	}
	old := map[string]*job{}
	for _, j := range c.jobs {
		old[j.cfg.Tenant] = j
	}
	var (
		jobs                          []*job
		added, changed, removed, kept []string
		gone                          []*job
	)
	for _, cfg := range cfgs {
		prev, ok := old[cfg.Tenant]
		delete(old, cfg.Tenant)
		fp := fingerprint(cfg)
		if ok && prev.fp == fp {
			jobs = append(jobs, prev)
			continue
		}
		j := &job{cfg: cfg, fp: fp, since: c.p.Now(), retired: make(chan struct{})}
		if ok {
			j.prev, j.since = prev, prev.since
			c.retire(s, prev, false)
			changed = append(changed, cfg.Tenant)
		} else {
			added = append(added, cfg.Tenant)
		}
		if err := c.add(s, j); err != nil {
			c.p.logger.Error("reload: tenant not scheduled", "tenant", cfg.Tenant, "err", err)
			continue
		}
		jobs = append(jobs, j)
	}
	for name, j := range old {
		if brokenFiles[j.cfg.File] {
			// The file is there but broken: someone is editing it. The
			// tenant goes on as it was until the file loads again.
			jobs = append(jobs, j)
			kept = append(kept, name)
			continue
		}
		gone = append(gone, j)
		removed = append(removed, name)
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].cfg.Tenant < jobs[b].cfg.Tenant })
	c.setTenants(jobs, broken)
	// After setTenants: a removed tenant's metrics are dropped only when
	// the fleet no longer has it.
	for _, j := range gone {
		c.retire(s, j, true)
	}
	for _, b := range broken {
		c.p.logger.Error("reload: tenant file unusable; a tenant it gave keeps running with its previous settings",
			"file", b.File, "err", b.Error())
	}
	for _, l := range [][]string{added, changed, removed, kept} {
		slices.Sort(l)
	}
	c.p.logger.Info("tenant files reloaded", "tenants", len(jobs), "added", added, "changed", changed,
		"removed", removed, "kept_despite_broken_file", kept, "unusable_files", len(broken))
}

// retire stops scheduling j and closes its state once its running pass,
// if any, has finished. A job that replaces it waits for that before it
// opens the same state. removed says no job replaces it: its tenant's
// metrics are dropped then, unless a later reload brought it back.
func (c *runCmd) retire(s gocron.Scheduler, j *job, removed bool) {
	if err := s.RemoveJob(j.id); err != nil {
		c.p.logger.Warn("reload: job already gone from the scheduler", "tenant", j.cfg.Tenant, "err", err)
	}
	j.gone.Store(true)
	if j.retired != nil {
		j.retiredOnce.Do(func() { close(j.retired) })
	}
	c.retired.Add(1)
	go func() {
		defer c.retired.Done()
		j.close()
		if removed && c.p.metrics != nil {
			if _, back := c.fleet.job(j.cfg.Tenant); !back {
				c.p.metrics.Forget(j.cfg.Tenant)
			}
		}
	}()
}
