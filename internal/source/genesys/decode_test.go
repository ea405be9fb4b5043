package genesys

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syncworker/syncworker/internal/source"
)

// fuzzLimits are the checks' parameters in the fuzz tests: the seeds date
// from June 2024.
var fuzzLimits = limits{now: time.Date(2024, 6, 4, 0, 0, 0, 0, time.UTC), maxText: 1 << 10}

// The fuzz tests feed arbitrary bytes to the decoders: they must never
// panic, what they refuse is source.ErrInvalid, and what they accept holds
// the promised invariants. More seeds are in testdata/fuzz/<FuzzName>/.

func mustBeInvalid(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, source.ErrInvalid) {
		t.Fatalf("error %v is not source.ErrInvalid", err)
	}
}

func FuzzDecodeConversation(f *testing.F) {
	f.Add([]byte(`{"id":"c-1","startTime":"2024-06-03T09:00:00.000Z","endTime":null,"participants":[
		{"id":"p1","purpose":"customer","name":"Maija","startTime":"2024-06-03T09:00:00.000Z","externalContactId":"x-1",
		 "attributes":{"context.email":"maija@example.com"},
		 "messages":[{"id":"m","state":"connected","type":"webmessaging","messages":[{"messageId":"a1","messageTime":"2024-06-03T09:00:01.000Z"}]}]},
		{"id":"p2","purpose":"acd","startTime":"2024-06-03T09:00:21.000Z","endTime":"2024-06-03T09:02:00.000Z"},
		{"id":"p3","purpose":"agent","userId":"u-1","startTime":"2024-06-03T09:01:50.000Z","connectedTime":"2024-06-03T09:02:00.000Z",
		 "messages":[{"messages":[{"messageId":"a1","messageTime":"2024-06-03T09:00:01.000Z"}]}]}]}`))
	f.Add([]byte(`{"id":"c","startTime":"2024-06-03T09:00:00Z","participants":[{"id":"p","purpose":"agent","connectedTime":"2024-06-03T09:00:00Z"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		conv, err := decodeConversation(body, fuzzLimits)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		if conv.ID == "" || conv.StartTime.IsZero() {
			t.Fatalf("accepted a conversation without id or start: %+v", conv)
		}
		chats := liveChats(conv)
		for i, lc := range chats {
			if lc.ID == "" || lc.RequestedAt.IsZero() {
				t.Errorf("live chat %d without id or request time", i)
			}
			if i > 0 && lc.RequestedAt.Before(chats[i-1].RequestedAt) {
				t.Errorf("live chats out of order")
			}
			for _, a := range lc.Agents {
				if a.JoinedAt.Before(lc.RequestedAt) || a.JoinedAt.IsZero() {
					t.Errorf("stint joined %v before its live chat was requested %v", a.JoinedAt, lc.RequestedAt)
				}
			}
		}
		listed, _ := listedIDs(conv)
		seen := map[string]bool{}
		for _, l := range listed {
			if seen[l.ID] || l.Time.IsZero() {
				t.Errorf("listed id %q twice or without time", l.ID)
			}
			seen[l.ID] = true
		}
		next := cursor{Seen: map[string]bool{}}.advance(listed)
		if c, err := parseCursor(next.String()); err != nil || len(newOf(c, listed)) != 0 {
			t.Errorf("cursor after every id: %v, %d still new", err, len(newOf(c, listed)))
		}
	})
}

func newOf(c cursor, listed []listedID) []string {
	var out []string
	for _, l := range listed {
		if c.isNew(l.ID, l.Time) {
			out = append(out, l.ID)
		}
	}
	return out
}

func FuzzDecodeBulk(f *testing.F) {
	f.Add([]byte(`{"entities":[{"id":"a1","timestamp":"2024-06-03T09:00:01.000Z","direction":"outbound","status":"delivery-success",
		"normalizedMessage":{"type":"Text","text":"hi\nthere","originatingEntity":"Bot","direction":"Outbound"}},
		{"id":"a2","timestamp":"2024-06-03T09:00:02.000Z","direction":"inbound","textBody":"\xff",
		"normalizedMessage":{"type":"Receipt","status":"Read"},"createdBy":{"id":"u-1"}}],"pageSize":2,"total":2}`))
	f.Add([]byte(`{"entities":null}`))
	f.Add([]byte(`{"entities":[{"id":""}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := decodeBulk(body, fuzzLimits)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		for _, m := range msgs {
			if checkID("", m.ID) != nil {
				t.Errorf("accepted message id %q", m.ID)
			}
			if txt := m.text(); !utf8.ValidString(txt) || len(txt) > fuzzLimits.maxText {
				t.Errorf("text not valid UTF-8 or over the cap: %q", txt)
			}
			_ = direction(&m)
		}
	})
}

func FuzzDecodeQueryResponse(f *testing.F) {
	f.Add([]byte(`{"conversations":[{"conversationId":"c-1","conversationStart":"2024-06-03T09:00:00.000Z",
		"conversationEnd":"2024-06-03T09:10:00.000Z"}],"totalHits":1}`))
	f.Add([]byte(`{"totalHits":0}`))
	f.Add([]byte(`{"conversations":[{"conversationId":"c","conversationStart":"2999-01-01T00:00:00Z"}],"totalHits":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeQueryResponse(body, fuzzLimits)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		for _, c := range r.Conversations {
			if checkID("", c.ConversationID) != nil || c.ConversationStart.After(fuzzLimits.now.Add(maxFuture)) {
				t.Errorf("accepted %+v", c)
			}
		}
	})
}

func FuzzParseCursor(f *testing.F) {
	f.Add(`{"w":1717405200000,"s":["a","b"]}`)
	f.Add("")
	f.Add(`{"w":1}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			if !strings.Contains(err.Error(), "not one of this adapter's") {
				t.Errorf("unexpected error %v", err)
			}
			return
		}
		if s != "" && c.W.IsZero() {
			t.Errorf("accepted %q without a time", s)
		}
		if again, err := parseCursor(c.String()); err != nil || len(again.Seen) != len(c.Seen) {
			t.Errorf("cursor %q does not round-trip: %v", c.String(), err)
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	f.Add([]byte(`{"access_token":"abc","token_type":"bearer","expires_in":86399}`))
	f.Add([]byte(`{"access_token":"a b","expires_in":1e30}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, d, err := decodeToken(body)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		if tok == "" || d <= 0 || d > maxLifetime {
			t.Errorf("accepted token %q for %v", tok, d)
		}
	})
}
