package generic_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
	"github.com/syncworker/syncworker/internal/source/generic"
)

// call runs one method against the server and returns its error.
type call func(ctx context.Context, c *generic.Client) error

var calls = map[string]call{
	"Session": func(ctx context.Context, c *generic.Client) error {
		_, err := c.Session(ctx, "ws-1")
		return err
	},
	"Messages": func(ctx context.Context, c *generic.Client) error {
		_, _, err := c.Messages(ctx, "ws-1", cursorOf(0))
		return err
	},
	"ListSessions": func(ctx context.Context, c *generic.Client) error {
		return c.ListChanges(ctx, time.Time{}, func(source.Listed) error { return nil })
	},
}

func TestClient_HTTPErrors(t *testing.T) {
	long := strings.Repeat("é", 1000)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantCalls int32
		check     func(t *testing.T, err error)
	}{
		{"Unauthorized", reply(401, `{"error":"bad token"}`), 1, func(t *testing.T, err error) {
			checkErr(t, err, generic.ErrUnauthorized)
			checkErr(t, err, ": 401 Unauthorized: ")
		}},
		{"NotFound", reply(404, `{"error":"no such session"}`), 1, func(t *testing.T, err error) {
			checkErr(t, err, ": 404 Not Found")
		}},
		{"RateLimited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			reply(429, `{"error":"slow down"}`)(w, r)
		}, 3, func(t *testing.T, err error) {
			var rl *generic.RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
				t.Errorf("err = %v, want RateLimitError{7s}", err)
			}
		}},
		{"ServerErrorRetriedThenSurfaced", reply(500, `{"error":"boom","trace":"x"}`), 3, func(t *testing.T, err error) {
			var apiErr *generic.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 500 || apiErr.Message != "boom" {
				t.Errorf("err = %#v, want APIError{500, boom}", err)
			}
		}},
		{"NotImplementedNotRetried", reply(501, `{"error":"no"}`), 1, func(t *testing.T, err error) {
			var apiErr *generic.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 501 {
				t.Errorf("err = %#v, want APIError{501}", err)
			}
		}},
		{"UnavailableRetriedThenSurfaced", reply(503, `{"error":"maintenance"}`), 3, func(t *testing.T, err error) {
			var apiErr *generic.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.Message != "maintenance" {
				t.Errorf("err = %v, want APIError{503, maintenance}", err)
			}
		}},
		{"ErrorBodyNotJSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			w.Write([]byte("<html>bad gateway</html>"))
		}, 3, func(t *testing.T, err error) {
			var apiErr *generic.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 502 || apiErr.Message != "" {
				t.Errorf("err = %v, want APIError{502} without a message", err)
			}
		}},
		{"LongMessageShortened", reply(400, `{"error":"`+long+"\\nline 2"+`"}`), 1, func(t *testing.T, err error) {
			var apiErr *generic.APIError
			if !errors.As(err, &apiErr) || len(apiErr.Message) > 210 || strings.Contains(apiErr.Message, "\n") {
				t.Errorf("message of %d bytes, want at most ~200 on one line", len(apiErr.Message))
			}
		}},
		{"MalformedJSONAfterRetries", reply(200, `{"sessions":[`), 3, func(t *testing.T, err error) {
			checkErr(t, err, generic.ErrInvalidResponse)
		}},
		{"MalformedNonJSONContentType", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(`{"sessions":[`))
		}, 1, func(t *testing.T, err error) {
			checkErr(t, err, generic.ErrInvalidResponse)
		}},
		{"EmptyBody", reply(200, ``), 1, func(t *testing.T, err error) {
			checkErr(t, err, "not a JSON object")
		}},
	}
	for _, tt := range tests {
		for name, call := range calls {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				c, mux := setup(t)
				hits := handle(t, mux, "/", tt.handler)
				err := call(context.Background(), c)
				if err == nil {
					t.Fatal("no error")
				}
				tt.check(t, err)
				checkErr(t, err, "") // the token check
				if n := hits.Load(); n != tt.wantCalls {
					t.Errorf("%d requests, want %d", n, tt.wantCalls)
				}
			})
		}
	}
}

func TestClient_BodyTooLarge(t *testing.T) {
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			c, mux := setup(t, func(o *generic.Options) { o.HTTP.MaxBodyBytes = 1000 })
			handle(t, mux, "/", reply(200, `{"x":"`+strings.Repeat("a", 5000)+`"}`))
			err := call(context.Background(), c)
			checkErr(t, err, generic.ErrInvalidResponse)
			var tooLarge *httpclient.BodyTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Errorf("err = %v, want a BodyTooLargeError", err)
			}
		})
	}
}

// TestClient_TokenNeverInErrors has a hostile server echo the token into
// every place that could end up in an error message.
func TestClient_TokenNeverInErrors(t *testing.T) {
	// listTolerates marks bodies the session listing accepts: it keeps an
	// entry whose fields do not check, so there is no error to inspect.
	tests := []struct {
		name          string
		handler       http.HandlerFunc
		want          error
		listTolerates bool
	}{
		{"InErrorMessage", reply(500, `{"error":"token `+testToken+` is not welcome"}`), nil, false},
		{"In401Message", reply(401, `{"error":"`+testToken+`"}`), generic.ErrUnauthorized, false},
		{"InSessionID", reply(200, `{"id":"`+testToken+`","status":"active","started_at":"2024-06-03T09:00:00Z",
			"sessions":[{"id":"`+testToken+`"}],"messages":[{"seq":-1,"sender":{"id":"`+testToken+`"}}]}`), generic.ErrInvalidResponse, true},
		{"InTimestamp", reply(200, `{"id":"ws-1","status":"active","started_at":"`+testToken+`",
			"sessions":[{"id":"ws-1","started_at":"`+testToken+`"}],"messages":[{"seq":1,"sent_at":"`+testToken+`"}]}`), generic.ErrInvalidResponse, true},
		{"InTimestampAsKey", reply(200, `{"`+testToken+`":{"x":1},"id":"ws-1","status":"active","started_at":"`+testToken+`",
			"sessions":[{"id":"`+testToken+`"}],"messages":[{"seq":"`+testToken+`"}]}`), generic.ErrInvalidResponse, true},
	}
	for _, tt := range tests {
		for name, call := range calls {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				c, mux := setup(t)
				handle(t, mux, "/", tt.handler)
				err := call(context.Background(), c)
				if err == nil && tt.listTolerates && name == "ListSessions" {
					return
				}
				if err == nil {
					t.Fatal("no error")
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
				for e := err; e != nil; e = errors.Unwrap(e) {
					if strings.Contains(e.Error(), testToken) {
						t.Errorf("error chain leaks the token: %v", e)
					}
				}
			})
		}
	}
}

func TestClient_ContextCanceled(t *testing.T) {
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			c, mux := setup(t)
			handle(t, mux, "/", reply(503, `{}`))
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := call(ctx, c); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		})
	}
}
