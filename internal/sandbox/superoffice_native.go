package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SuperOfficeCase is a chat session in SuperOffice's own JSON, for what
// the chat store cannot hold (a Finished session the customer reopens, a
// session closed from the queue, an offline form, the bot's ChatbotIsActive,
// a transfer as SuperOffice records it). The fake serves it as given.
//
// A case directory holds chat_session.json (a ChatSessionEntity),
// chat_messages.json (the ChatMessage array), and optionally
// associates.json and persons.json (the Associate and PersonEntity
// records its agents resolve to).
type SuperOfficeCase struct {
	Dir        string
	Session    json.RawMessage
	Messages   []json.RawMessage
	Associates []json.RawMessage
	Persons    []json.RawMessage
}

// soNative is a loaded session.
type soNative struct {
	session  json.RawMessage
	messages []json.RawMessage
	ids      []int64 // ChatMessageId of each message
	status   json.RawMessage
	requested, started, ended,
	updated time.Time
}

// ReadSuperOfficeCase reads the SuperOffice case in dir.
func ReadSuperOfficeCase(dir string) (SuperOfficeCase, error) {
	c := SuperOfficeCase{Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, "chat_session.json"))
	if err != nil {
		return c, err
	}
	c.Session = json.RawMessage(b)
	for _, f := range []struct {
		name     string
		into     *[]json.RawMessage
		required bool
	}{{"chat_messages.json", &c.Messages, true}, {"associates.json", &c.Associates, false}, {"persons.json", &c.Persons, false}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if errors.Is(err, os.ErrNotExist) && !f.required {
			continue
		}
		if err != nil {
			return c, err
		}
		if err := json.Unmarshal(b, f.into); err != nil {
			return c, fmt.Errorf("%s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return c, nil
}

// soNativeHead is what the fake reads of a loaded ChatSessionEntity.
type soNativeHead struct {
	ChatSessionID int64           `json:"ChatSessionId"`
	Status        json.RawMessage `json:"Status"`
	CustomerName  string          `json:"CustomerName"`
	CustomerEmail string          `json:"CustomerEmail"`
	WhenRequested *string         `json:"WhenRequested"`
	WhenStarted   *string         `json:"WhenStarted"`
	WhenEnded     *string         `json:"WhenEnded"`
	WhenIdle      *string         `json:"WhenIdle"`
}

// SuperOfficeDomainID is the chat store id under which the fake knows the
// loaded session with ChatSessionId n: the id CardBySession and friends
// take.
func SuperOfficeDomainID(n int64) string { return "so-" + strconv.FormatInt(n, 10) }

// PutSuperOfficeCase serves c's session, replacing an earlier one with its
// ChatSessionId (its archive updatedDate then moves to the sandbox's now),
// registers its associates and persons, adds person cards for its
// customer and for every person with an email, and, the first time, a
// chat-session card as createChatSession makes it. It returns the session's
// chat store id (SuperOfficeDomainID). Only the SuperOffice fake takes it.
func (s *Server) PutSuperOfficeCase(c SuperOfficeCase) (string, error) {
	p, ok := s.plat.(*superOfficePlatform)
	if !ok {
		return "", fmt.Errorf("sandbox: a SuperOffice case needs -platform %s", PlatformSuperOffice)
	}
	nat, head, err := parseNative(c)
	if err != nil {
		return "", fmt.Errorf("sandbox: SuperOffice case %s: %w", c.Dir, err)
	}
	domain := SuperOfficeDomainID(head.ChatSessionID)
	p.mu.Lock()
	old, existed := p.native[head.ChatSessionID]
	if other := p.domains[head.ChatSessionID]; other != "" && other != domain {
		p.mu.Unlock()
		return "", fmt.Errorf("sandbox: ChatSessionId %d is taken by session %s", head.ChatSessionID, other)
	}
	if existed {
		nat.updated = later(nat.updated, later(old.updated, s.now()))
	}
	p.native[head.ChatSessionID] = nat
	p.ids[domain], p.domains[head.ChatSessionID] = head.ChatSessionID, domain
	if err := p.putRecords(c); err != nil {
		p.mu.Unlock()
		return "", err
	}
	p.mu.Unlock()
	if err := s.addNativePeople(c, head); err != nil {
		return "", err
	}
	if existed {
		return domain, nil
	}
	_, err = s.CreateChatSessionCard(domain)
	return domain, err
}

// LoadSuperOfficeCase reads the case in dir and puts it (see
// PutSuperOfficeCase).
func (s *Server) LoadSuperOfficeCase(dir string) (string, error) {
	c, err := ReadSuperOfficeCase(dir)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	return s.PutSuperOfficeCase(c)
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func parseNative(c SuperOfficeCase) (*soNative, soNativeHead, error) {
	var head soNativeHead
	if err := json.Unmarshal(c.Session, &head); err != nil {
		return nil, head, fmt.Errorf("chat_session.json: %w", err)
	}
	if head.ChatSessionID <= 0 {
		return nil, head, errors.New("chat_session.json: ChatSessionId missing")
	}
	nat := &soNative{session: compact(c.Session), status: head.Status}
	var err error
	for _, f := range []struct {
		v  *string
		to *time.Time
	}{{head.WhenRequested, &nat.requested}, {head.WhenStarted, &nat.started}, {head.WhenEnded, &nat.ended},
		{head.WhenIdle, &nat.updated}} {
		if f.v != nil && *f.v != "" {
			if *f.to, err = parseSOTime(*f.v); err != nil {
				return nil, head, fmt.Errorf("chat_session.json: %w", err)
			}
		}
	}
	nat.updated = later(nat.updated, later(nat.requested, later(nat.started, nat.ended)))
	for i, raw := range c.Messages {
		var m struct {
			ChatMessageID int64   `json:"ChatMessageId"`
			WhenPosted    *string `json:"WhenPosted"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, head, fmt.Errorf("chat_messages.json [%d]: %w", i, err)
		}
		if m.WhenPosted != nil {
			if t, err := parseSOTime(*m.WhenPosted); err == nil {
				nat.updated = later(nat.updated, t)
			}
		}
		nat.messages = append(nat.messages, compact(raw))
		nat.ids = append(nat.ids, m.ChatMessageID)
	}
	return nat, head, nil
}

// putRecords registers c's associates and persons by their ids.
func (p *superOfficePlatform) putRecords(c SuperOfficeCase) error {
	for i, raw := range c.Associates {
		var a struct {
			AssociateID int64 `json:"AssociateId"`
		}
		if json.Unmarshal(raw, &a) != nil || a.AssociateID <= 0 {
			return fmt.Errorf("sandbox: SuperOffice case %s: associates.json [%d]: AssociateId missing", c.Dir, i)
		}
		p.nativeAssocs[a.AssociateID] = compact(raw)
	}
	for i, raw := range c.Persons {
		var per struct {
			PersonID int64 `json:"PersonId"`
		}
		if json.Unmarshal(raw, &per) != nil || per.PersonID <= 0 {
			return fmt.Errorf("sandbox: SuperOffice case %s: persons.json [%d]: PersonId missing", c.Dir, i)
		}
		p.nativePersons[per.PersonID] = compact(raw)
	}
	return nil
}

// addNativePeople adds ESM person cards for c's customer and persons.
func (s *Server) addNativePeople(c SuperOfficeCase, head soNativeHead) error {
	if strings.TrimSpace(head.CustomerEmail) != "" {
		if _, err := s.AddPerson(head.CustomerName, head.CustomerEmail); err != nil {
			return err
		}
	}
	for _, raw := range c.Persons {
		var per struct {
			FullName string `json:"FullName"`
			Emails   []struct {
				Value string `json:"Value"`
			} `json:"Emails"`
		}
		_ = json.Unmarshal(raw, &per)
		for _, e := range per.Emails {
			if strings.TrimSpace(e.Value) != "" {
				if _, err := s.AddPerson(per.FullName, e.Value); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// parseSOTime reads a WebAPI date-time; one without an offset is UTC.
func parseSOTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date-time", v)
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// LoadSuperOfficeDir puts every SuperOffice case directly under dir (a
// directory holding chat_session.json; dir itself may be one), in lexical
// order, and returns how many it put. A case's before/ stage is left out:
// the sandbox serves the case as it ends.
func (s *Server) LoadSuperOfficeDir(dir string) (int, error) {
	if _, err := os.Stat(filepath.Join(dir, "chat_session.json")); err == nil {
		_, err := s.LoadSuperOfficeCase(dir)
		return 1, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("sandbox: load %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "chat_session.json")); !e.IsDir() || err != nil {
			continue
		}
		if _, err := s.LoadSuperOfficeCase(sub); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
