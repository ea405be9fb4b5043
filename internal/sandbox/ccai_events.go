package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// What the CCAI Platform fake pushes: QM chat session events, signed and
// posted to the tenant's webhook as the chat store's sessions change, and
// a transcript file once a session has ended. The events are derived from
// the session (its start, the virtual agent when the bot spoke, each agent
// joining and leaving, transfers, the end), so that a receiver that
// applies them gets back what the platform can express of the session.

// CCAIFaults make the fake's pushes misbehave the way a real webhook may.
type CCAIFaults struct {
	// Duplicates posts every event twice.
	Duplicates bool
	// OutOfOrder posts each batch of a chat's new events latest first.
	OutOfOrder bool
	// Forged posts, beside each chat's events, one that claims the chat
	// ended, signed with a wrong secret: the receiver must refuse it.
	Forged bool
	// HalfWritten drops each transcript in two steps: first half of the
	// file, then, at the next change or Publish, all of it.
	HalfWritten bool
}

// CCAIStats count what the fake pushed.
type CCAIStats struct {
	// Sent counts events posted with the right signature; Accepted those
	// answered 202. Refused counts the forged ones answered 401, Failed
	// posts that got no answer or another status.
	Sent, Accepted, Refused, Failed int
	// Transcripts counts transcript files written whole.
	Transcripts int
}

type ccaiWebhook struct {
	url    string
	secret string
	client *http.Client
}

// CCAIFake is the Go API of the CCAI Platform fake, for tests, the demo
// and the sandbox command.
type CCAIFake struct {
	s *Server
	p *ccaiPlatform
}

// CCAI returns the CCAI Platform fake, or nil when the server fakes
// another platform.
func (s *Server) CCAI() *CCAIFake {
	p, ok := s.plat.(*ccaiPlatform)
	if !ok {
		return nil
	}
	return &CCAIFake{s: s, p: p}
}

// SetWebhook makes the fake post its events to url, signed with secret
// (CCAIEventsSecret when empty); an empty url stops the posting.
func (f *CCAIFake) SetWebhook(url, secret string) {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	if url == "" {
		f.p.hook = nil
		return
	}
	if secret == "" {
		secret = CCAIEventsSecret
	}
	f.p.hook = &ccaiWebhook{url: url, secret: secret, client: &http.Client{Timeout: 10 * time.Second}}
}

// SetFaults sets how the fake's pushes misbehave from now on.
func (f *CCAIFake) SetFaults(c CCAIFaults) {
	f.p.mu.Lock()
	f.p.faults = c
	f.p.mu.Unlock()
}

// Stats returns what the fake pushed so far.
func (f *CCAIFake) Stats() CCAIStats {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	return f.p.stats
}

// TranscriptsDir is the directory the fake drops transcripts into.
func (f *CCAIFake) TranscriptsDir() string { return f.p.transcriptsDir(f.s) }

// ChatID is the chat_id of the chat store's session domainID.
func (f *CCAIFake) ChatID(domainID string) string { return f.p.sessionID(domainID) }

// Publish pushes what every session's change since the last push called
// for: events not yet accepted, transcripts not yet written whole.
func (f *CCAIFake) Publish() error {
	var errs []error
	for _, id := range f.s.SessionIDs() {
		if err := f.p.push(f.s, id); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sandbox: ccai push: %d chats failed, the first: %w", len(errs), errs[0])
	}
	return nil
}

// changed implements changeNotifier: a session changed in the chat store.
func (p *ccaiPlatform) changed(s *Server, domainID string) {
	_ = p.push(s, domainID) // a failed post is tried again at the next change or Publish
}

// ccaiEvent is one chat event: its time and its item.
type ccaiEvent struct {
	at   time.Time
	item map[string]any
}

// push posts the new events of session domainID and drops its transcript
// once it has ended.
func (p *ccaiPlatform) push(s *Server, domainID string) error {
	sess, msgs, ok := s.Session(domainID)
	if !ok {
		return nil
	}
	p.mu.Lock()
	id := p.chatIDLocked(domainID)
	hook, faults := p.hook, p.faults
	p.mu.Unlock()
	if sess.Ended() {
		if err := p.dropTranscript(s, domainID, id, &sess, msgs, faults.HalfWritten); err != nil {
			return err
		}
	}
	if hook == nil {
		return nil
	}
	var fresh []ccaiEvent
	all := p.events(id, &sess, msgs)
	p.mu.Lock()
	sent := p.posted[domainID]
	if sent == nil {
		sent = map[string]bool{}
		p.posted[domainID] = sent
	}
	for _, ev := range all {
		if k := eventKey(ev); !sent[k] {
			fresh = append(fresh, ev)
		}
	}
	p.mu.Unlock()
	if faults.OutOfOrder {
		slices.Reverse(fresh)
	}
	var firstErr error
	for i, ev := range fresh {
		if err := p.post(s, hook, ev, i%3 == 2, faults.Duplicates); err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		p.mu.Lock()
		sent[eventKey(ev)] = true
		p.mu.Unlock()
	}
	if faults.Forged && len(fresh) > 0 {
		forged := ccaiEvent{at: s.now(), item: map[string]any{"chat_id": id, "state": "disconnected",
			"participants": []any{}, "ends_at": isoTime(s.now()), "timestamp": s.now().Unix()}}
		p.send(s, &ccaiWebhook{url: hook.url, secret: "forged-" + hook.secret, client: hook.client}, ev2body(forged, false), true)
	}
	return firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func eventKey(ev ccaiEvent) string {
	b, _ := json.Marshal(ev.item)
	return string(b)
}

func ev2body(ev ccaiEvent, bare bool) []byte {
	if bare {
		b, _ := json.Marshal(ev.item)
		return b
	}
	b, _ := json.Marshal(map[string]any{"type": "ChatState", "item": ev.item})
	return b
}

// post sends one event, twice with duplicates, and returns an error when
// it was not accepted.
func (p *ccaiPlatform) post(s *Server, hook *ccaiWebhook, ev ccaiEvent, bare, twice bool) error {
	body := ev2body(ev, bare)
	if err := p.send(s, hook, body, false); err != nil {
		return err
	}
	if twice {
		return p.send(s, hook, body, false)
	}
	return nil
}

// send signs and posts body; forged posts are expected to be refused.
func (p *ccaiPlatform) send(s *Server, hook *ccaiWebhook, body []byte, forged bool) error {
	ts := strconv.FormatInt(s.now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(hook.secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, hook.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := hook.client.Do(req)
	status := 0
	if err == nil {
		resp.Body.Close()
		status = resp.StatusCode
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case forged && status == http.StatusUnauthorized:
		p.stats.Refused++
		return nil
	case forged:
		p.stats.Failed++
		return fmt.Errorf("forged event answered %d", status)
	}
	p.stats.Sent++
	if status == http.StatusAccepted {
		p.stats.Accepted++
		return nil
	}
	p.stats.Failed++
	if err != nil {
		return err
	}
	return fmt.Errorf("event answered %d", status)
}

// events derives the QM chat events of a session, in time order.
func (p *ccaiPlatform) events(id int64, sess *aggregate.Session, msgs []aggregate.Message) []ccaiEvent {
	const customer = "end_user_5"
	ext := func(state string) map[string]any {
		return map[string]any{"state": state, "type": "external", "dn": customer}
	}
	item := func(state, initiator string, at time.Time, parts []any) ccaiEvent {
		return ccaiEvent{at: at, item: map[string]any{
			"queue_path_ids": "7/26", "queue_path_names": "Sandbox/chat", "language": "en", "session_type_v2": "In-web",
			"support_number": nil, "tenant": CCAISubdomain, "event_id": strconv.FormatInt(id, 10),
			"chat_id": id, "state": state, "direction": "incoming", "initiator": initiator,
			"participants": parts, "timestamp": at.Unix(),
		}}
	}
	evs := []ccaiEvent{item("waiting", customer, sess.StartedAt, []any{ext("connected")})}
	if i := slices.IndexFunc(msgs, func(m aggregate.Message) bool { return m.Sender.Type == aggregate.SenderBot }); i >= 0 {
		at := later(msgs[i].SentAt, sess.StartedAt)
		ev := item("connected", "virtual_agent_2", at, []any{ext("connected"),
			map[string]any{"state": "connected", "type": "virtual_agent", "dn": "virtual_agent_2"}})
		ev.item["connected_at"] = isoTime(at)
		evs = append(evs, ev)
	}
	evs = append(evs, p.agentEvents(sess, item, ext)...)
	if sess.Ended() {
		parts := []any{ext("disconnected")}
		for _, a := range stints(sess) {
			if a.LeftAt.IsZero() || !a.LeftAt.Before(sess.EndedAt) {
				parts = append(parts, p.agentPart(a, "disconnected"))
			}
		}
		ev := item("disconnected", customer, sess.EndedAt, parts)
		ev.item["connected_at"], ev.item["ends_at"] = "", isoTime(sess.EndedAt)
		if c := connectedAt(sess); !c.IsZero() {
			ev.item["connected_at"] = isoTime(c)
		}
		evs = append(evs, ev)
	}
	slices.SortStableFunc(evs, func(a, b ccaiEvent) int { return a.at.Compare(b.at) })
	return evs
}

// agentEvents are the agents' joins and leaves, those at the same instant
// in one event: a leave and a join together are a transfer.
func (p *ccaiPlatform) agentEvents(sess *aggregate.Session, item func(string, string, time.Time, []any) ccaiEvent,
	ext func(string) map[string]any) []ccaiEvent {
	st := stints(sess)
	type action struct {
		at    time.Time
		i     int
		leave bool
	}
	var acts []action
	for i, a := range st {
		acts = append(acts, action{at: a.JoinedAt, i: i})
		if !a.LeftAt.IsZero() && (!sess.Ended() || a.LeftAt.Before(sess.EndedAt)) {
			acts = append(acts, action{at: a.LeftAt, i: i, leave: true})
		}
	}
	slices.SortStableFunc(acts, func(a, b action) int { return a.at.Compare(b.at) })
	open := map[int]bool{}
	var evs []ccaiEvent
	first := true
	for k := 0; k < len(acts); {
		at := acts[k].at
		changed := map[int]string{}
		leaving, initiator := false, ""
		for ; k < len(acts) && acts[k].at.Equal(at); k++ {
			a := acts[k]
			if a.leave {
				changed[a.i], leaving = "disconnected", true
				delete(open, a.i)
			} else {
				changed[a.i] = "connected"
				open[a.i] = true
			}
			initiator = p.agentDN(st[a.i])
		}
		parts := []any{ext("connected")}
		for i := range st {
			if state, ok := changed[i]; ok {
				parts = append(parts, p.agentPart(st[i], state))
			} else if open[i] {
				parts = append(parts, p.agentPart(st[i], "connected"))
			}
		}
		state := "connected"
		if leaving {
			state = "participantDisconnect"
		}
		ev := item(state, initiator, at, parts)
		if first && !leaving {
			if c := connectedAt(sess); !c.IsZero() {
				ev.item["connected_at"] = isoTime(c)
			}
			first = false
		}
		evs = append(evs, ev)
	}
	return evs
}

func (p *ccaiPlatform) agentDN(a aggregate.Agent) string {
	return "agent_" + strconv.FormatInt(p.agentID(a.Name, a.Email), 10)
}

func (p *ccaiPlatform) agentPart(a aggregate.Agent, state string) map[string]any {
	return map[string]any{"state": state, "type": "agent", "dn": p.agentDN(a), "name": a.Name,
		"agent_number": "100", "alias": strings.ToLower(strings.ReplaceAll(a.Name, " ", "-"))}
}

// transcriptRoles maps sender types to the transcript's roles; other
// types keep their name as the role.
var transcriptRoles = map[aggregate.SenderType]string{
	aggregate.SenderVisitor: "end_user",
	aggregate.SenderAgent:   "agent",
	aggregate.SenderBot:     "virtual_agent",
	aggregate.SenderSystem:  "system",
}

// dropTranscript writes <dir>/<chat_id>.json once, atomically, or in two
// steps with half set.
func (p *ccaiPlatform) dropTranscript(s *Server, domainID string, id int64, sess *aggregate.Session, msgs []aggregate.Message, half bool) error {
	p.mu.Lock()
	done := p.written[domainID]
	p.mu.Unlock()
	if done {
		return nil
	}
	entries := []any{}
	for _, m := range aggregate.Normalize(msgs) {
		role, ok := transcriptRoles[m.Sender.Type]
		if !ok {
			role = string(m.Sender.Type)
		}
		typ := "text"
		if m.Sender.Type == aggregate.SenderSystem {
			typ = "noti"
		}
		userData := map[string]any{}
		if m.Sender.Name != "" {
			userData["name"] = m.Sender.Name
		}
		entries = append(entries, map[string]any{"timestamp": m.SentAt.Unix(), "type": typ,
			"body": map[string]any{"content": m.Text}, "role": role, "user_data": userData})
	}
	b, _ := json.MarshalIndent(map[string]any{"comm_type": "chat", "comm_id": id, "assigned_at": isoTime(connectedAt(sess)),
		"entries": entries}, "", " ")
	path := filepath.Join(p.transcriptsDir(s), strconv.FormatInt(id, 10)+".json")
	if half {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return os.WriteFile(path, b[:len(b)/2], 0o600)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	p.mu.Lock()
	p.written[domainID] = true
	p.stats.Transcripts++
	p.mu.Unlock()
	return nil
}

// express is what CCAI Platform can carry of a session (docs/sources/
// ccai-platform.md): one live chat per chat; agents joining at their
// event's time in whole seconds (with a webhook), or all at the connect
// time in the order they were assigned (without, from the Apps API); a
// customer email only when the identifier is one; no transcript before
// the chat ended, and then times in whole seconds.
func (p *ccaiPlatform) express(sess aggregate.Session, msgs []aggregate.Message) (aggregate.Session, []aggregate.Message) {
	p.mu.Lock()
	events := p.hook != nil
	p.mu.Unlock()
	s := cloneSession(sess)
	if !strings.Contains(s.Customer.Email, "@") {
		s.Customer.Email = ""
	}
	lc := aggregate.LiveChat{ID: "chat", RequestedAt: s.StartedAt, ConnectedAt: connectedAt(&sess), EndedAt: s.EndedAt}
	if events {
		for _, a := range stints(&sess) {
			a.JoinedAt, a.LeftAt = a.JoinedAt.Truncate(time.Second), time.Time{}
			lc.Agents = append(lc.Agents, a)
		}
		if lc.ConnectedAt.IsZero() && len(lc.Agents) > 0 {
			lc.ConnectedAt = lc.Agents[0].JoinedAt
		}
	} else {
		for _, a := range personsInJoinOrder(&sess) {
			lc.Agents = append(lc.Agents, aggregate.Agent{ID: a.ID, Name: a.Name, Email: strings.TrimSpace(a.Email), JoinedAt: lc.ConnectedAt})
		}
	}
	s.LiveChats = []aggregate.LiveChat{lc}
	if !s.Ended() {
		// The transcript file lands after the chat ends.
		s.TranscriptMissing = true
		return s, nil
	}
	var out []aggregate.Message
	for _, m := range aggregate.Normalize(msgs) {
		out = append(out, aggregate.Message{SentAt: m.SentAt.Truncate(time.Second), LiveChatID: lc.ID,
			Sender: aggregate.Sender{Type: m.Sender.Type, Name: m.Sender.Name}, Text: m.Text})
	}
	slices.SortStableFunc(out, func(a, b aggregate.Message) int { return a.SentAt.Compare(b.SentAt) })
	for i := range out {
		out[i].Seq = int64(i + 1)
	}
	return s, out
}
