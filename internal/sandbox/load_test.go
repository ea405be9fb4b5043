package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/transcript"
)

// writeCase writes a case directory; wrapped writes the messages as
// {"messages":[...]}.
func writeCase(t *testing.T, dir string, sess aggregate.Session, msgs []aggregate.Message, wrapped bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := transcript.EncodeSession(sess)
	write("session.json", b, err)
	if msgs != nil {
		b, err := transcript.EncodeMessages(msgs)
		if wrapped {
			b = append(append([]byte(`{"messages":`), b...), '}')
		}
		write("messages.json", b, err)
	}
	write("card.json", []byte(`{"ignored":"golden"}`), nil)
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	s1, m1 := exampleSession("ws-1")
	writeCase(t, filepath.Join(dir, "b-example"), s1, m1, false)
	s2, m2 := exampleSession("ws-2")
	s2.Customer.Email = "MAIJA@example.com" // the same person as in ws-1
	writeCase(t, filepath.Join(dir, "a-wrapped"), s2, m2, true)
	s3 := aggregate.Session{ID: "ws-3", StartedAt: t0}
	writeCase(t, filepath.Join(dir, "c-no-messages"), s3, nil, false)
	if err := os.MkdirAll(filepath.Join(dir, "not-a-case"), 0o755); err != nil {
		t.Fatal(err)
	}

	s := New(Options{Now: newClock().Now})
	n, err := s.LoadDir(dir)
	if err != nil || n != 3 {
		t.Fatalf("LoadDir: %d, %v", n, err)
	}
	if got := s.SessionIDs(); !slices.Equal(got, []string{"ws-3", "ws-1", "ws-2"}) {
		t.Errorf("sessions %v", got)
	}
	_, msgs, _ := s.Session("ws-2")
	if len(msgs) != 7 || msgs[6].Text != "Fixed" {
		t.Errorf("ws-2 messages %+v", msgs)
	}
	var emails []string
	for _, p := range s.Persons() {
		emails = append(emails, p.Text("email"))
	}
	// a-wrapped comes first, so its spelling of Maija's email wins.
	if want := []string{"MAIJA@example.com", "ann@example.com", "BOB@example.com"}; !slices.Equal(emails, want) {
		t.Errorf("persons %v, want %v", emails, want)
	}
	for _, id := range []string{"ws-1", "ws-2", "ws-3"} {
		if cards := s.CardsBySession(id); len(cards) != 1 || cards[0].Text("is_chat_active") != "Yes" {
			t.Errorf("%s cards %+v", id, cards)
		}
	}

	single := New(Options{})
	if n, err := single.LoadDir(filepath.Join(dir, "b-example")); err != nil || n != 1 {
		t.Errorf("a case directory: %d, %v", n, err)
	}
}

func TestLoadDir_Errors(t *testing.T) {
	dir := t.TempDir()
	sess, msgs := exampleSession("ws-1")
	msgs[3].Seq = 2 // not increasing
	writeCase(t, filepath.Join(dir, "bad-seq"), sess, msgs, false)
	broken := filepath.Join(dir, "broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "session.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "bad-seq"), broken, filepath.Join(dir, "missing")} {
		if _, err := New(Options{}).LoadDir(d); err == nil {
			t.Errorf("LoadDir(%s) succeeded", d)
		}
	}
}
