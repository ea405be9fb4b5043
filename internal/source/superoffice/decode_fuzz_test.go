package superoffice

import (
	"errors"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/source"
)

var fuzzLimits = limits{now: time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC), maxText: 1 << 10, maxMessages: 1000}

// The decoders never panic, fail only with source.ErrInvalid, and what
// they accept keeps their promises.

func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte(`{"ChatSessionId":220,"Status":"UserLast","WhenRequested":"2024-06-03T09:00:00.1234567+02:00",` +
		`"WhenStarted":null,"User":{"AssociateId":12,"FullName":"Ann"},"ChatbotIsActive":false}`))
	f.Add([]byte(`{"ChatSessionId":"220","Status":7,"WhenRequested":"2024-06-03T09:00:00","WhenEnded":"0001-01-01T00:00:00"}`))
	f.Add([]byte(`{"ChatSessionId":220,"Status":{},"WhenRequested":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeSession(body, 220, fuzzLimits)
		if err != nil {
			if !errors.Is(err, source.ErrInvalid) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if s.ChatSessionID != 220 || !s.Status.set || s.WhenRequested.IsZero() {
			t.Fatalf("accepted %+v", s)
		}
		for _, tm := range []time.Time{s.WhenRequested.Time, s.WhenStarted.Time, s.WhenEnded.Time, s.WhenIdle.Time} {
			if tm.After(fuzzLimits.now.Add(maxFuture)) {
				t.Fatalf("accepted a time in the future: %v", tm)
			}
		}
	})
}

func FuzzDecodeMessages(f *testing.F) {
	f.Add([]byte(`[{"ChatMessageId":53,"ChatSessionId":220,"Type":"ToCustomer","Message":"hi","Author":"Ann",`+
		`"SpecialType":"None","SpecialParam":"","WhenPosted":"2024-06-03T09:00:00+02:00"}]`), int64(0))
	f.Add([]byte(`[{"ChatMessageId":"54","Type":3,"SpecialType":"6","SpecialParam":"13","WhenPosted":"2024-06-03T09:00:00"},`+
		`{"ChatMessageId":53,"Type":"1","WhenPosted":"2024-06-03T08:00:00Z"}]`), int64(50))
	f.Add([]byte(`[{"ChatMessageId":5,"WhenPosted":null},{"ChatMessageId":5}]`), int64(0))
	f.Add([]byte("[{\"ChatMessageId\":6,\"Message\":\"\xff\xfe\",\"WhenPosted\":\"2024-06-03T09:00:00Z\"}]"), int64(5))
	f.Fuzz(func(t *testing.T, body []byte, after int64) {
		msgs, err := decodeMessages(body, 220, after, fuzzLimits)
		if err != nil {
			if !errors.Is(err, source.ErrInvalid) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		last := after
		for _, m := range msgs {
			if int64(m.ChatMessageID) <= last || m.WhenPosted.IsZero() || len(m.Message) > fuzzLimits.maxText {
				t.Fatalf("accepted %+v after %d", m, last)
			}
			last = int64(m.ChatMessageID)
		}
	})
}

func FuzzDecodeListPage(f *testing.F) {
	f.Add([]byte(`{"odata.nextLink":"https://x/api/v1/ChatSession?$skip=2","value":[{"PrimaryKey":220,"EntityName":"chat",` +
		`"chatSessionId":220,"status":"UserLast","whenRequested":"2024-06-03T09:00:00","whenEnded":"","updatedDate":"2024-06-03T09:00:00"}]}`))
	f.Add([]byte(`{"value":[{"PrimaryKey":"7","status":"Waiting for customer","updatedDate":"garbage"}]}`))
	f.Add([]byte(`{"value":[{"chatSessionId":-1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, _, err := decodeListPage(body)
		if err != nil {
			if !errors.Is(err, source.ErrInvalid) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.id <= 0 || r.id > 1<<31-1 {
				t.Fatalf("accepted row id %d", r.id)
			}
		}
	})
}
