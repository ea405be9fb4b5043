package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/engine"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// discoveryCounts counts the streams and the listing pages of
// chat-session cards so far; person lookups are listings too, of another
// template.
func discoveryCounts(h *harness) (streams, pages int) {
	for _, r := range h.sb.Requests() {
		switch {
		case r.Route == sandbox.RouteStreamCards:
			streams++
		case r.Route == sandbox.RouteListCards && strings.Contains(r.Path, "/dc/"+h.cfg.ESM.Template+"/"):
			pages++
		}
	}
	return streams, pages
}

// TestPass_Discovery: a pass finds the active cards in one stream by
// default, page by page with esm.discovery: pages or when ESM does not
// serve the stream, and writes every session once either way.
func TestPass_Discovery(t *testing.T) {
	t.Parallel()
	const n = 230 // more than one page of 200
	tests := []struct {
		name  string
		extra string
		opts  func(*sandbox.Options)
		fail  *sandbox.Failure // the stream's first answer
		// wantStreams and wantPages count the discovery requests of two
		// passes: two pages in the first, one in the second, as the
		// first pass closes the ended sessions' cards.
		wantStreams, wantPages int
	}{
		{name: "Stream", wantStreams: 2},
		{name: "Pages", extra: "  discovery: pages\n", wantPages: 3},
		{name: "WithoutStream", opts: func(o *sandbox.Options) { o.WithoutStream = true }, wantPages: 3},
		{name: "StreamNotAllowed", fail: &sandbox.Failure{Status: http.StatusMethodNotAllowed}, wantStreams: 1, wantPages: 3},
		{name: "StreamNotFound", fail: &sandbox.Failure{Status: http.StatusNotFound}, wantStreams: 2, wantPages: 2},
		{name: "StreamCutShort", fail: &sandbox.Failure{Broken: sandbox.FaultTruncated}, wantStreams: 3},
		{name: "StreamGarbled", fail: &sandbox.Failure{Broken: sandbox.FaultMalformed}, wantStreams: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, tt.extra, tt.opts) // extra continues the esm block
			h.generate(n)
			if tt.fail != nil {
				h.sb.FailNext(sandbox.RouteStreamCards, 1, *tt.fail)
			}
			s := h.pass()
			if s.Sessions != n || s.Written != n || s.Failed != 0 {
				t.Fatalf("first pass: %s, want %d written", s, n)
			}
			h.advance(time.Minute)
			if s := h.pass(); s.Written != 0 || s.Failed != 0 || s.Dropped != 0 {
				t.Errorf("second pass: %s, want nothing written or dropped", s)
			}
			streams, pages := discoveryCounts(h)
			if streams != tt.wantStreams || pages != tt.wantPages {
				t.Errorf("%d streams and %d pages, want %d and %d", streams, pages, tt.wantStreams, tt.wantPages)
			}
			if dup := strings.Count(h.logs.String(), "two active cards"); dup != 0 {
				t.Errorf("%d warnings of two active cards for one session, want none (a stream asked for again repeats cards)", dup)
			}
		})
	}
}

// TestPass_DiscoveryKeepsToTheBaseURL: with filterId paging, a next link
// that names another host (an ESM behind a proxy) is never followed: the
// next page is asked of the configured base URL, by filterId.
func TestPass_DiscoveryKeepsToTheBaseURL(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, "  discovery: pages\n", func(o *sandbox.Options) {
		o.LinkBaseURL = "http://127.0.0.1:1/elsewhere/rest-api/itsm/v1"
	})
	h.generate(210)
	if s := h.pass(); s.Written != 210 {
		t.Fatalf("pass: %s", s)
	}
	for _, r := range h.sb.Requests() {
		if r.Route == sandbox.RouteListCards && r.Status != http.StatusOK {
			t.Errorf("listing %s answered %d", r.Path, r.Status)
		}
	}
}

// TestPass_TwoActiveCardsForOneSession: the stream's first card for a
// session is written, the other warned about.
func TestPass_TwoActiveCardsForOneSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	first := h.card("ws-a").ID
	second, err := h.sb.CreateChatSessionCard("ws-a")
	if err != nil {
		t.Fatal(err)
	}
	if s := h.pass(); s.Sessions != 1 || s.Written != 1 {
		t.Fatalf("pass: %s", s)
	}
	if !strings.Contains(h.logs.String(), "two active cards for one session") {
		t.Error("no warning about the second card")
	}
	a := h.cfg.ESM.Attributes
	newer, _ := h.sb.Card(second)
	older, _ := h.sb.Card(first)
	if !newer.Has(a.MessageCount) || older.Has(a.MessageCount) {
		t.Errorf("written: newer %v, older %v; want the newer card (the stream's first) only", newer.Has(a.MessageCount), older.Has(a.MessageCount))
	}
}

// TestPass_WriteForbiddenFailsThatCard: a PATCH answered 403 fails that
// session only, with an error that says the ESM user lacks permission.
func TestPass_WriteForbiddenFailsThatCard(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "sync:\n  concurrency: 1\n")
	ids := h.generate(5)
	h.sb.FailNext(sandbox.RoutePatchCard, 1, sandbox.Failure{Status: http.StatusForbidden,
		Message: "User is forbidden to update the resource"})
	s := h.pass()
	if s.Failed != 1 || s.Written != 4 {
		t.Fatalf("pass: %s, want 1 failed and 4 written", s)
	}
	failing := 0
	for _, id := range ids {
		st, _, _ := h.store.Session(context.Background(), id)
		if st.Failures == 0 {
			continue
		}
		failing++
		if !strings.Contains(st.LastError, "lacks permission") || !strings.Contains(st.LastError, "forbidden to update") {
			t.Errorf("%s: last error %q, want it to name the permission", id, st.LastError)
		}
	}
	if failing != 1 {
		t.Errorf("%d sessions failing, want 1", failing)
	}
	h.advance(engine.BackoffBase + time.Second)
	if s := h.pass(); s.Written != 1 || s.Failed != 0 {
		t.Errorf("pass after the back-off: %s, want the refused card written", s)
	}
}

// TestPass_FieldErrorsNamedInSessionError: ESM's meta.errors entries
// (attributeCode, attributeType, message, error) reach the session's
// error with the attribute and the message.
func TestPass_FieldErrorsNamedInSessionError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.sb.AddCase(liveSession("ws-a"), liveMessages("ws-a"))
	h.sb.SetMaxTextLength(10)
	if s := h.pass(); s.Failed != 1 {
		t.Fatalf("pass: %s, want 1 failed", s)
	}
	st, _, _ := h.store.Session(context.Background(), "ws-a")
	a := h.cfg.ESM.Attributes
	if !strings.Contains(st.LastError, "write rejected: "+a.ChatLog+": ") || !strings.Contains(st.LastError, "at most 10 allowed") {
		t.Errorf("last error %q, want it to name %s and ESM's message", st.LastError, a.ChatLog)
	}
}
