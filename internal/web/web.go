// Package web is the HTTP face of syncworker run -listen (SPEC §8): the
// status page at /, /healthz, /readyz and /metrics. The page is rendered
// on the server from html/template with embedded assets only, readable
// without JavaScript, and refreshes itself; it shows what internal/status
// reads, which holds no secret.
package web

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/status"
)

//go:embed assets/*
var assets embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"rfc3339": status.FormatTime,
	"ago":     ago,
	"seconds": seconds,
	"deref":   func(t *time.Time) time.Time { return *t },
	"minus":   func(a, b int) int { return a - b },
}).ParseFS(assets, "assets/page.html"))

// Source is what the server shows: the tenants' status and readiness.
type Source interface {
	// Status reads every tenant's status now, sorted by tenant.
	Status(ctx context.Context) status.Report
	// NotReady returns the reasons the process is not ready, one line
	// each; none means ready.
	NotReady(now time.Time) []string
}

// Options configure a Server.
type Options struct {
	// Metrics serves /metrics; nil leaves it out.
	Metrics http.Handler
	// Refresh is how often the page reloads itself; 0 is 15 s.
	Refresh time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Server serves the read-only endpoints; Handle adds others (the signed
// event receivers) to the same listener.
type Server struct {
	src  Source
	mux  *http.ServeMux
	opts Options
}

// New returns a Server for src.
func New(src Source, o Options) *Server {
	if o.Refresh <= 0 {
		o.Refresh = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{src: src, mux: http.NewServeMux(), opts: o}
	// Only the stylesheet is served: not a listing of the assets, nor the
	// page's template.
	s.mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "assets/style.css")
	})
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { text(w, http.StatusOK, "ok\n") })
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /{$}", s.index)
	if o.Metrics != nil {
		s.mux.Handle("GET /metrics", o.Metrics)
	}
	return s
}

// Handle adds a handler to the listener, for the event receivers.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'")
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	reasons := s.src.NotReady(s.opts.Now())
	if len(reasons) == 0 {
		text(w, http.StatusOK, "ready\n")
		return
	}
	sort.Strings(reasons)
	text(w, http.StatusServiceUnavailable, strings.Join(reasons, "\n")+"\n")
}

// view is what the page template renders: the report status -format
// json prints, and the readiness /readyz gives.
type view struct {
	status.Report
	Refresh  int
	NotReady []string
	// Metrics says /metrics is served, for the link to it.
	Metrics bool
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	rep := s.src.Status(ctx)
	v := view{Report: rep, Refresh: int(s.opts.Refresh / time.Second), NotReady: s.src.NotReady(rep.AsOf),
		Metrics: s.opts.Metrics != nil}
	var b strings.Builder
	if err := page.Execute(&b, v); err != nil {
		text(w, http.StatusInternalServerError, "render: "+err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(b.String()))
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

// ago says how long before now t was, or how long after.
func ago(now, t time.Time) string {
	if d := now.Sub(t); d >= 0 {
		return status.FormatAge(d) + " ago"
	}
	return "in " + status.FormatAge(t.Sub(now))
}

// seconds writes a run's duration to the millisecond.
func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}
