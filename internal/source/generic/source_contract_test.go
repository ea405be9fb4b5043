package generic_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source/generic"
	"github.com/syncworker/syncworker/internal/source/sourcetest"
)

// TestSourceContract runs the contract every adapter must pass against the
// generic adapter and the sandbox's generic platform.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) sourcetest.Backend {
		sb := sandbox.New(sandbox.Options{ChatToken: "contract-token"})
		var repeat atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if repeat.Load() && strings.HasSuffix(r.URL.Path, "/messages") {
				// A platform stuck on its first page: has_more for ever.
				q := r.URL.Query()
				q.Set("after", "0")
				r.URL.RawQuery = q.Encode()
				rec := httptest.NewRecorder()
				sb.ServeHTTP(rec, r)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(strings.Replace(rec.Body.String(), `"has_more":false`, `"has_more":true`, 1)))
				return
			}
			sb.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		const pageSize = 3
		c, err := generic.New(generic.Options{BaseURL: srv.URL + sandbox.ChatPrefix, Token: "contract-token",
			PageSize: pageSize, HTTP: httpclient.Options{Retries: 1, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return sourcetest.Backend{
			Source: c,
			Seed:   sb.AddSession,
			Append: sb.AppendMessages,
			SetFault: func(f sourcetest.Fault) {
				repeat.Store(f == sourcetest.RepeatedPage)
				var fault sandbox.Fault
				switch f {
				case sourcetest.Unavailable:
					fault.ServerErrorShare = 1
				case sourcetest.Garbled:
					fault.MalformedShare = 1
				}
				sb.SetFaults(sandbox.Faults{Chat: fault})
			},
			PageSize: pageSize,
		}
	})
}
