package sandbox

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/transcript"
)

// AddCase adds a session with its transcript, a person card for its
// customer and for each of its agents (by email, case-insensitively, once
// each; people without email are skipped), and its chat-session card as
// createChatSession makes it. It returns the card id.
func (s *Server) AddCase(sess aggregate.Session, msgs []aggregate.Message) (string, error) {
	if err := s.AddSession(sess, msgs); err != nil {
		return "", err
	}
	if err := s.addPeople(&sess); err != nil {
		return "", err
	}
	return s.CreateChatSessionCard(sess.ID)
}

func (s *Server) addPeople(sess *aggregate.Session) error {
	add := func(name, email string) error {
		if aggregate.NormalizeEmail(email) == "" {
			return nil
		}
		_, err := s.AddPerson(name, email)
		return err
	}
	if err := add(sess.Customer.Name, sess.Customer.Email); err != nil {
		return err
	}
	for _, lc := range sess.LiveChats {
		for _, a := range lc.Agents {
			if err := add(a.Name, a.Email); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadDir adds every case under dir with AddCase. A case is a directory
// holding session.json (a session in the wire format of SPEC §4.1) and
// optionally messages.json (an array of messages, or {"messages":[...]});
// other files, such as golden card.json, are ignored. dir itself may be a
// case. Cases are loaded in lexical order; it returns how many were.
func (s *Server) LoadDir(dir string) (int, error) {
	if _, err := os.Stat(filepath.Join(dir, "session.json")); err == nil {
		return 1, s.loadCase(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("sandbox: load %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		caseDir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(caseDir, "session.json")); err != nil {
			continue
		}
		if err := s.loadCase(caseDir); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Server) loadCase(dir string) error {
	c, err := transcript.ReadCase(dir)
	if err != nil {
		return fmt.Errorf("sandbox: load %s: %w", dir, err)
	}
	msgs, err := bySeq(c.Messages)
	if err != nil {
		return fmt.Errorf("sandbox: load %s: %w", dir, err)
	}
	if _, err := s.AddCase(c.Session, msgs); err != nil {
		return fmt.Errorf("sandbox: load %s: %w", dir, err)
	}
	return nil
}

// bySeq orders a case's messages by seq and drops exact repeats: a case
// file may list them in any order or twice, as a garbled export would,
// while the platform serves each once, in order. Two different messages
// with one seq are an error.
func bySeq(msgs []aggregate.Message) ([]aggregate.Message, error) {
	sorted := slices.Clone(msgs)
	slices.SortStableFunc(sorted, func(a, b aggregate.Message) int { return cmp.Compare(a.Seq, b.Seq) })
	out := sorted[:0]
	for _, m := range sorted {
		if n := len(out); n > 0 && out[n-1].Seq == m.Seq {
			if !reflect.DeepEqual(out[n-1], m) {
				return nil, fmt.Errorf("%w: two different messages with seq %d", ErrBadSeq, m.Seq)
			}
			continue
		}
		out = append(out, m)
	}
	return out, nil
}
