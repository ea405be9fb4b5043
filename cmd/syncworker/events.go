package main

import (
	"context"
	"net/http"

	"github.com/syncworker/syncworker/internal/source"
)

// Pushed events (SPEC §4.3.3): run -listen serves POST /events/<kind>/<tenant>
// for each tenant whose chat platform pushes events, and an accepted event
// asks for an extra pass of its tenant, so that its card is written
// without waiting for the cron tick.

// eventEndpoint is a tenant's event receiver.
type eventEndpoint struct {
	kind    string
	handler http.Handler
}

// attachEvents makes j's receiver once its tenant is open, when its
// platform pushes events and the tenant takes them. Without a listener
// nothing is received, and the source keeps polling.
func (c *runCmd) attachEvents(j *job) {
	if c.listenAddr == "" || j.events.Load() != nil {
		return
	}
	r, ok := j.t.chat.(source.Receiver)
	if !ok {
		return
	}
	h, ok := r.EventHandler(func(string) { j.requestPass() })
	if !ok {
		return
	}
	j.events.Store(&eventEndpoint{kind: r.EventsPath(), handler: h})
}

// requestPass asks for an extra pass of j; requests while one is pending
// are one request.
func (j *job) requestPass() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// eventRoutes dispatches POST /events/{kind}/{tenant} to the receiver of
// the tenant as the fleet has it now (a reload may change it): 404 for a
// tenant that is not served here or takes no events of that kind, 503
// while its state cannot be opened.
type eventRoutes struct{ f *fleet }

// job returns the fleet's job of tenant.
func (f *fleet) job(tenant string) (*job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range f.jobs {
		if j.cfg.Tenant == tenant {
			return j, true
		}
	}
	return nil, false
}

func (e *eventRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j, ok := e.f.job(r.PathValue("tenant"))
	if !ok {
		jsonError(w, http.StatusNotFound, "unknown tenant")
		return
	}
	ep := j.events.Load()
	switch {
	case ep == nil && j.cfg.Chat.CCAI.EventsSecrets != nil && r.PathValue("kind") == "ccai":
		jsonError(w, http.StatusServiceUnavailable, "the tenant's state cannot be opened yet")
	case ep == nil || ep.kind != r.PathValue("kind"):
		jsonError(w, http.StatusNotFound, "the tenant takes no such events")
	default:
		ep.handler.ServeHTTP(w, r)
	}
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(`{"error":"` + msg + `"}`))
}

// extraPasses runs, for j, the extra passes its events ask for: one at a
// time, after the pass that is running, if any, until j is retired by a
// reload or run stops.
func (c *runCmd) extraPasses(ctx context.Context, stop <-chan struct{}, j *job) {
	if c.listenAddr == "" {
		return
	}
	if j.kick == nil { // a job a reload added, not yet reachable
		j.kick = make(chan struct{}, 1)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-j.retired:
				return
			case <-j.kick:
			}
			if j.gone.Load() {
				return
			}
			c.extraPass(ctx, stop, j)
		}
	}()
}

// extraPass runs a pass of j once the one running, if any, is over, unless
// a pass started meanwhile: that one saw the event.
func (c *runCmd) extraPass(ctx context.Context, stop <-chan struct{}, j *job) {
	gen := j.starts.Load()
	j.mu.Lock()
	fresh := j.starts.Load() > gen
	j.mu.Unlock()
	if fresh {
		return
	}
	c.passHeld(ctx, stop, j)
}
