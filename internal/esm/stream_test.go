package esm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// streamCard renders a card of a stream answer.
func streamCard(id int64) string {
	return fmt.Sprintf(`{"dataCardId":"%d","name":"c%d","data":{"chat_session_id":{"name":"Chat session id","type":"string","values":[{"value":"ws-%d"}]}}}`, id, id, id)
}

func streamBody(ids ...int64) string {
	cards := make([]string, len(ids))
	for i, id := range ids {
		cards[i] = streamCard(id)
	}
	return `{"data":[` + strings.Join(cards, ",") + `],"meta":{"count":` + strconv.Itoa(len(ids)) + `}}`
}

// streamIDs streams template chat_session from c and returns the ids.
func streamIDs(t *testing.T, c *Client) ([]string, error) {
	t.Helper()
	var got []string
	err := c.StreamCards(context.Background(), "chat_session", "", []string{"chat_session_id"}, func(card Card) error {
		if card.Text("chat_session_id") != "ws-"+card.ID {
			t.Errorf("card %s: chat_session_id %q", card.ID, card.Text("chat_session_id"))
		}
		got = append(got, card.ID)
		return nil
	})
	return got, err
}

func TestClient_StreamCards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answers []string // the stream's answers in turn, the last repeated; "404", "405" are statuses
		wantIDs []string
		wantErr string
		// wantStreams and wantPages count the requests of each kind.
		wantStreams, wantPages int
	}{
		{"MetaAfterData", []string{streamBody(9, 8, 7)}, []string{"9", "8", "7"}, "", 1, 0},
		{"MetaFirst", []string{`{"meta":{"count":2,"links":{}},"data":[` + streamCard(5) + "," + streamCard(4) + `]}`},
			[]string{"5", "4"}, "", 1, 0},
		{"UnknownMembersSkipped", []string{`{"x":[1,{"y":2}],"data":[` + streamCard(3) + `],"z":null}`}, []string{"3"}, "", 1, 0},
		{"Empty", []string{`{"data":[],"meta":{"count":0}}`}, nil, "", 1, 0},
		{"DataNull", []string{`{"data":null}`}, nil, "", 1, 0},
		{"404ListsPages", []string{"404"}, []string{"9", "8", "7", "6"}, "", 1, 2},
		{"405ListsPages", []string{"405"}, []string{"9", "8", "7", "6"}, "", 1, 2},
		{"CutShortAskedAgain", []string{streamBody(9, 8, 7)[:150], streamBody(9, 8, 7)},
			[]string{"9", "9", "8", "7"}, "", 2, 0},
		{"GarbledAskedAgain", []string{`{"data":[` + streamCard(9) + `,{"dataCardId":}]}`, streamBody(9)},
			[]string{"9", "9"}, "", 2, 0},
		{"CutShortThreeTimesFails", []string{streamBody(9, 8)[:150]}, []string{"9", "9", "9"}, "unexpected EOF", 3, 0},
		{"InvalidCardNotAskedAgain", []string{`{"data":[{"dataCardId":{"x":1}}]}`}, nil, "decode card id", 1, 0},
		{"NotAnObject", []string{`[1,2]`}, nil, "want {, got [", 1, 0},
		{"DataNotAnArray", []string{`{"data":{}}`}, nil, "data is not an array", 1, 0},
		{"TrailingData", []string{streamBody(9) + `{}`}, []string{"9"}, "data after the answer", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newAPIServer(t)
			streams := 0
			s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
				a := tt.answers[min(streams, len(tt.answers)-1)]
				streams++
				if status, err := strconv.Atoi(a); err == nil {
					apiException(w, status, http.StatusText(status))
					return
				}
				writeRaw(w, http.StatusOK, a)
			})
			s.mux.HandleFunc("GET /v1/dc/chat_session/data", pager(map[string]string{"": page(7, 9, 8, 7), "7": page(0, 6)}))
			got, err := streamIDs(t, s.client(t, func(o *Options) { o.PageSize = 3 }))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tt.wantIDs)
			}
			pages := len(s.requests()) - streams
			if streams != tt.wantStreams || pages != tt.wantPages {
				t.Errorf("%d streams and %d pages, want %d and %d", streams, pages, tt.wantStreams, tt.wantPages)
			}
		})
	}
}

func TestClient_StreamCards_Query(t *testing.T) {
	t.Parallel()
	s := newAPIServer(t)
	s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, streamBody())
	})
	filter := must(Eq("is_chat_active", "Yes"))
	err := s.client(t).StreamCards(context.Background(), "chat_session", filter, []string{"chat_session_id", "is_chat_active"},
		func(Card) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := "/v1/dc/chat_session/data/stream?dataCards=true&filter=%24is_chat_active%24%20%3D%20%27Yes%27&selectedAttributes=chat_session_id%2Cis_chat_active"
	if r := s.requests(); len(r) != 1 || r[0].uri != want {
		t.Errorf("requests %v, want %s", r, want)
	}
}

func TestClient_StreamCards_405Remembered(t *testing.T) {
	t.Parallel()
	s := newAPIServer(t)
	s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
		apiException(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	})
	s.mux.HandleFunc("GET /v1/dc/chat_session/data", pager(map[string]string{"": page(0, 2, 1)}))
	c := s.client(t)
	for range 2 {
		if got, err := streamIDs(t, c); err != nil || len(got) != 2 {
			t.Fatalf("ids %v, err %v", got, err)
		}
	}
	var uris []string
	for _, r := range s.requests() {
		uris = append(uris, strings.SplitN(r.uri, "?", 2)[0])
	}
	if want := []string{"/v1/dc/chat_session/data/stream", "/v1/dc/chat_session/data", "/v1/dc/chat_session/data"}; !slices.Equal(uris, want) {
		t.Errorf("requests %v, want %v", uris, want)
	}
}

func TestClient_StreamCards_Errors(t *testing.T) {
	t.Parallel()
	t.Run("CallbackErrorReturnedAsIsAndNotAskedAgain", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, http.StatusOK, streamBody(3, 2, 1))
		})
		stop := errors.New("stop here")
		n := 0
		err := s.client(t).StreamCards(context.Background(), "chat_session", "", nil, func(Card) error { n++; return stop })
		if err != stop || n != 1 || len(s.requests()) != 1 {
			t.Fatalf("err = %v after %d cards and %d requests, want %v after 1 and 1", err, n, len(s.requests()), stop)
		}
	})
	t.Run("CardOverTheCap", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
			big := strings.Replace(streamCard(2), "ws-2", strings.Repeat("x", 50000), 1)
			writeRaw(w, http.StatusOK, `{"data":[`+streamCard(3)+","+big+`]}`)
		})
		c := s.client(t, func(o *Options) { o.HTTP.MaxBodyBytes = 10000 })
		got, err := streamIDs(t, c)
		var tooLarge *httpclient.BodyTooLargeError
		if !errors.As(err, &tooLarge) || !slices.Equal(got, []string{"3"}) || len(s.requests()) != 1 {
			t.Fatalf("ids %v, err %v after %d requests; want card 3, then BodyTooLargeError", got, err, len(s.requests()))
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		s := newAPIServer(t)
		s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
			apiException(w, http.StatusBadRequest, "Invalid filter")
		})
		_, err := streamIDs(t, s.client(t))
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.HasPrefix(err.Error(), "esm stream chat_session cards: ") {
			t.Fatalf("err = %v, want APIError 400 naming the template", err)
		}
	})
}

// TestClient_StreamCards_Sandbox streams from the sandbox ESM, also when a
// token expires on the way and when the sandbox has no stream.
func TestClient_StreamCards_Sandbox(t *testing.T) {
	t.Parallel()
	for _, without := range []bool{false, true} {
		t.Run(fmt.Sprintf("WithoutStream=%v", without), func(t *testing.T) {
			t.Parallel()
			sb, base := newSandbox(t, sandbox.Options{WithoutStream: without})
			for i := range 450 {
				if _, err := sb.CreateChatSessionCard(fmt.Sprintf("ws-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			c := newTestClient(t, base)
			if _, err := c.Template(context.Background(), "chat_session"); err != nil {
				t.Fatal(err)
			}
			sb.ExpireTokens()
			n := 0
			err := c.StreamCards(context.Background(), "chat_session", must(Eq("is_chat_active", "Yes")), []string{"chat_session_id"},
				func(Card) error { n++; return nil })
			if err != nil || n != 450 {
				t.Fatalf("%d cards, err %v", n, err)
			}
			wantStreams, wantPages := 2, 0 // the first refused with 401
			if without {
				wantStreams, wantPages = 0, 3
			}
			if sb.Count(sandbox.RouteStreamCards) != wantStreams || sb.Count(sandbox.RouteListCards) != wantPages || sb.Count(sandbox.RouteLogin) != 2 {
				t.Errorf("counts %v", sb.Counts())
			}
		})
	}
}

// TestClient_StreamCards_MemoryStaysFlat streams 100,000 cards (about
// 15 MB) and checks that the live heap does not grow with them.
func TestClient_StreamCards_MemoryStaysFlat(t *testing.T) {
	const n = 100000
	s := newAPIServer(t)
	s.mux.HandleFunc("GET /v1/dc/chat_session/data/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"data":[`)
		for i := int64(n); i > 0; i-- {
			bw.WriteString(streamCard(i))
			if i > 1 {
				bw.WriteByte(',')
			}
		}
		bw.WriteString(`]}`)
		bw.Flush()
	})
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	c := s.client(t)
	base := live()
	var peak uint64
	count := 0
	err := c.StreamCards(context.Background(), "chat_session", "", nil, func(Card) error {
		if count++; count%20000 == 0 {
			peak = max(peak, live())
		}
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("%d cards, err %v", count, err)
	}
	t.Logf("live heap %d KiB before, at most %d KiB while streaming", base>>10, peak>>10)
	if grown := int64(peak) - int64(base); grown > 4<<20 {
		t.Errorf("live heap grew by %d KiB while streaming, want it flat", grown>>10)
	}
}

// BenchmarkDecodeStream decodes a stream of 1,000 discovery cards (the
// session id alone), the client's share of every pass per 1,000 active
// cards.
func BenchmarkDecodeStream(b *testing.B) {
	card := `{"dataCardId":"12345","name":"ws-000123","templateCode":"chat_session","templateName":"Chat session",` +
		`"folderCode":"chat_sessions","folderName":"Chat sessions",` +
		`"data":{"chat_session_id":{"name":"Chat session ID","type":"string","values":[{"value":"ws-000123"}]}}}`
	body := `{"data":[` + card + strings.Repeat(","+card, 999) + `],"meta":{"count":1000}}`
	for b.Loop() {
		if err := decodeStream(strings.NewReader(body), 1<<20, func(Card) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
