package generic

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syncworker/syncworker/internal/source"
)

// fuzzLimits are the checks' parameters in the fuzz tests: the seeds date
// from June 2024.
var fuzzLimits = limits{now: time.Date(2024, 6, 4, 0, 0, 0, 0, time.UTC), maxText: 1 << 10}

// The fuzz tests feed arbitrary bytes to the decoders: they must never
// panic, and whatever they accept must hold the promised invariants. More
// seeds are in testdata/fuzz/<FuzzName>/.

func FuzzDecodeSessionPage(f *testing.F) {
	f.Add([]byte(`{"sessions":[{"id":"ws-1","status":"active","started_at":"2024-06-03T09:00:00Z","ended_at":null,"updated_at":"2024-06-03T09:06:00Z"}],"next_cursor":"c1"}`))
	f.Add([]byte(`{"sessions":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sessions, _, err := decodeSessionPage(body, fuzzLimits)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		for _, s := range sessions {
			if s.ID == "" || s.Status == "" || s.StartedAt.IsZero() {
				t.Errorf("accepted an incomplete session %+v", s)
			}
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte(`{"id":"ws-1","status":"ended","started_at":"2024-06-03T09:00:00Z","ended_at":"2024-06-03T09:07:00Z",
		"customer":{"id":"u-9","name":"Maija","email":"maija@example.com"},
		"live_chats":[{"id":"lc-1","requested_at":"2024-06-03T09:00:21Z","connected_at":null,"ended_at":null,
		"agents":[{"id":"a-1","name":"Ann","joined_at":"2024-06-03T09:02:00Z","left_at":null}]}]}`))
	f.Add([]byte(`{"id":"ws-1","status":5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeSession(body, fuzzLimits)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		if s.ID == "" || s.Status == "" || s.StartedAt.IsZero() {
			t.Errorf("accepted an incomplete session %+v", s)
		}
		for _, lc := range s.LiveChats {
			if lc.ID == "" {
				t.Errorf("accepted a live chat without id")
			}
		}
	})
}

func FuzzDecodeMessagesPage(f *testing.F) {
	f.Add([]byte(`{"messages":[{"seq":2,"id":"m-2","sent_at":"2024-06-03T09:00:02Z","sender":{"type":"agent","name":"Ann"},"live_chat_id":"lc-1","text":"b"},
		{"seq":1,"id":"m-1","sent_at":"2024-06-03T12:00:01+03:00","sender":{"type":"bot"},"live_chat_id":null,"text":"a\nb"}],"has_more":true}`))
	f.Add([]byte("{\"messages\":[{\"seq\":1,\"sent_at\":\"2024-06-03T09:00:02Z\",\"text\":\"\xff\"}]}"))
	f.Add([]byte(`{"messages":[{"seq":1e3}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, _, err := decodeMessagesPage(body, fuzzLimits)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		for i, m := range msgs {
			if m.Seq <= 0 || m.Seq > maxSeq || (i > 0 && m.Seq <= msgs[i-1].Seq) {
				t.Errorf("accepted seq %d at %d", m.Seq, i)
			}
			if m.SentAt.IsZero() || len(m.Text) > fuzzLimits.maxText || !utf8.ValidString(m.Text) {
				t.Errorf("accepted message %+v", m)
			}
		}
	})
}

func mustBeInvalid(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidResponse) {
		t.Errorf("err = %v, want an ErrInvalidResponse", err)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("error message of %d bytes", len(err.Error()))
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"two\nlines", 20, "two lines"},
		{"ääää", 3, "ä…"},
		{"bad \xff", 10, "bad \uFFFD"},
	}
	for _, tt := range tests {
		if got := source.Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("source.Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
