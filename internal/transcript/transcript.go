// Package transcript reads and writes the case files under testdata/: a
// session (session.json), its messages (messages.json), the aggregation
// inputs (options.json) and, for golden cases, the expected card
// (card.json). The session and message files are in the shape of the
// generic chat platform's API (SPEC §4.1), written as people write them:
// absent or null times are both "none".
//
// Cases are the one source of truth every chat platform's golden tests are
// generated from; the domain types themselves carry no wire format.
package transcript

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
)

// Case is one transcript directory.
type Case struct {
	// Name is the directory's base name.
	Name     string
	Dir      string
	Session  aggregate.Session
	Messages []aggregate.Message
	// Options are options.json: zero when the file is absent.
	Options Options
}

// Options are the aggregation inputs of a case.
type Options struct {
	Now             time.Time `json:"now"`
	Timezone        string    `json:"timezone"`
	MaxActiveAge    string    `json:"max_active_age"`
	ChatLogMaxChars int       `json:"chat_log_max_chars"`
}

// Aggregate returns the aggregation options of o; an error names what does
// not parse.
func (o Options) Aggregate() (aggregate.Options, error) {
	out := aggregate.Options{Now: o.Now, ChatLogMaxChars: o.ChatLogMaxChars, Location: time.UTC}
	if o.Timezone != "" {
		loc, err := time.LoadLocation(o.Timezone)
		if err != nil {
			return out, fmt.Errorf("timezone: %w", err)
		}
		out.Location = loc
	}
	if o.MaxActiveAge != "" {
		d, err := time.ParseDuration(o.MaxActiveAge)
		if err != nil {
			return out, fmt.Errorf("max_active_age: %w", err)
		}
		out.MaxActiveAge = d
	}
	return out, nil
}

// ReadCase reads the case in dir. messages.json and options.json are
// optional.
func ReadCase(dir string) (Case, error) {
	c := Case{Name: filepath.Base(dir), Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, "session.json"))
	if err != nil {
		return c, err
	}
	if c.Session, err = DecodeSession(b); err != nil {
		return c, fmt.Errorf("%s: %w", filepath.Join(dir, "session.json"), err)
	}
	if b, err = readOptional(filepath.Join(dir, "messages.json")); err != nil {
		return c, err
	}
	if c.Messages, err = DecodeMessages(b); err != nil {
		return c, fmt.Errorf("%s: %w", filepath.Join(dir, "messages.json"), err)
	}
	if b, err = readOptional(filepath.Join(dir, "options.json")); err != nil {
		return c, err
	}
	if len(b) > 0 {
		if err := strict(b, &c.Options); err != nil {
			return c, fmt.Errorf("%s: %w", filepath.Join(dir, "options.json"), err)
		}
	}
	return c, nil
}

// ReadDir reads every case directly under dir (a directory holding
// session.json), in lexical order; dir itself may be a case.
func ReadDir(dir string) ([]Case, error) {
	if _, err := os.Stat(filepath.Join(dir, "session.json")); err == nil {
		c, err := ReadCase(dir)
		return []Case{c}, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "session.json")); !e.IsDir() || err != nil {
			continue
		}
		c, err := ReadCase(sub)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// DecodeSession reads a session.json.
func DecodeSession(b []byte) (aggregate.Session, error) {
	var w wireSession
	if err := strict(b, &w); err != nil {
		return aggregate.Session{}, err
	}
	return w.domain(), nil
}

// DecodeMessages reads a messages.json: an array of messages, or an object
// {"messages":[...]}; empty input is no message.
func DecodeMessages(b []byte) ([]aggregate.Message, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	var ws []wireMessage
	var err error
	if b[0] == '{' {
		var wrapped struct {
			Messages []wireMessage `json:"messages"`
		}
		err = strict(b, &wrapped)
		ws = wrapped.Messages
	} else {
		err = strict(b, &ws)
	}
	if err != nil {
		return nil, err
	}
	out := make([]aggregate.Message, len(ws))
	for i, w := range ws {
		out[i] = w.domain()
	}
	return out, nil
}

// EncodeSession writes s as a session.json.
func EncodeSession(s aggregate.Session) ([]byte, error) {
	return json.MarshalIndent(fromSession(s), "", "  ")
}

// EncodeMessages writes msgs as a messages.json array.
func EncodeMessages(msgs []aggregate.Message) ([]byte, error) {
	ws := make([]wireMessage, len(msgs))
	for i, m := range msgs {
		ws[i] = fromMessage(m)
	}
	return json.MarshalIndent(ws, "", "  ")
}

// strict decodes b into v, refusing unknown fields: a misspelt key in a
// hand-written case must not silently mean "none".
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
