package ccai

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed event: X-Signature is
// hex(HMAC-SHA256(secret, X-Signature-Timestamp + "." + body)).
const (
	HeaderSignature = "X-Signature"
	HeaderTimestamp = "X-Signature-Timestamp"
)

// EventsPath implements source.Receiver: events arrive at
// POST /events/ccai/<tenant>.
func (c *Client) EventsPath() string { return "ccai" }

// EventHandler implements source.Receiver. Without events secrets the
// tenant takes no events.
func (c *Client) EventHandler(accepted func(chatID string)) (http.Handler, bool) {
	if len(c.secrets) == 0 {
		return nil, false
	}
	c.live.Store(true)
	return &receiver{c: c, accepted: accepted}, true
}

// receiver answers CCAI Platform's event webhook: 202 once an event is
// stored (or ignored as another type), 401 unsigned or stale, 400
// malformed, 413 too large, 503 when the state cannot store it; only a
// 202 has changed anything.
type receiver struct {
	c        *Client
	accepted func(string)
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	received := rv.c.now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		reply(w, http.StatusRequestEntityTooLarge, "event body over 1 MiB")
		return
	case err != nil:
		reply(w, http.StatusBadRequest, "event body could not be read")
		return
	}
	if msg := rv.c.verify(r.Header, body, received); msg != "" {
		reply(w, http.StatusUnauthorized, msg)
		return
	}
	ev, item, err := decodeEvent(body)
	switch {
	case errors.Is(err, errIgnored):
		reply(w, http.StatusAccepted, "ignored: not a ChatState event")
		return
	case err != nil:
		reply(w, http.StatusBadRequest, "malformed event: "+err.Error())
		return
	}
	at := ev.At
	if at.IsZero() {
		at = received
	}
	_, events := rv.c.stores()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if _, err := events.AddEvent(ctx, Namespace, ev.ChatID, at, received, digest(item), item); err != nil {
		rv.c.log.Error("ccai event could not be stored; the platform will retry it", "chat", ev.ChatID, "err", err)
		reply(w, http.StatusServiceUnavailable, "event could not be stored")
		return
	}
	reply(w, http.StatusAccepted, "accepted")
	if rv.accepted != nil {
		rv.accepted(ev.ChatID)
	}
}

// verify checks the signature and its timestamp and returns why they are
// refused, "" when they are good. The MAC is compared in constant time
// against each secret.
func (c *Client) verify(h http.Header, body []byte, now time.Time) string {
	ts, sig := strings.TrimSpace(h.Get(HeaderTimestamp)), strings.TrimSpace(h.Get(HeaderSignature))
	if ts == "" || sig == "" {
		return "unsigned event: " + HeaderSignature + " and " + HeaderTimestamp + " are required"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return HeaderTimestamp + " is not Unix seconds"
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureWindow || d < -SignatureWindow {
		return "stale event: " + HeaderTimestamp + " is more than 5 minutes off"
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil {
		return "bad signature"
	}
	ok := false
	for _, secret := range c.secrets {
		// Every secret is tried, so the time taken does not say which
		// one matched.
		ok = hmac.Equal(got, Sign(secret, ts, body)) || ok
	}
	if !ok {
		return "bad signature"
	}
	return ""
}

// Sign returns the MAC of an event: HMAC-SHA256(secret, timestamp + "." +
// body). The sandbox's fake signs with it.
func Sign(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := jsonMessage(status, msg)
	w.Write(b)
}
