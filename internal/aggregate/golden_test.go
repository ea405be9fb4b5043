package aggregate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden card.json files under testdata/golden")

// goldenOptions is options.json of a golden case.
type goldenOptions struct {
	Now             time.Time `json:"now"`
	Timezone        string    `json:"timezone"`
	MaxActiveAge    string    `json:"max_active_age"`
	ChatLogMaxChars int       `json:"chat_log_max_chars"`
}

// TestGolden aggregates every transcript under testdata/golden and compares
// the card with the case's card.json. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*", "session.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 12 {
		t.Fatalf("found %d golden cases, want at least 12", len(dirs))
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var (
				s    Session
				msgs []Message
				o    goldenOptions
			)
			readJSON(t, filepath.Join(dir, "session.json"), &s)
			readJSON(t, filepath.Join(dir, "messages.json"), &msgs)
			readJSON(t, filepath.Join(dir, "options.json"), &o)
			got := marshal(t, Aggregate(s, msgs, o.options(t)))
			file := filepath.Join(dir, "card.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want Card
			readJSON(t, file, &want)
			if w := marshal(t, want); !bytes.Equal(got, w) {
				t.Errorf("card differs from %s\ngot:\n%s\nwant:\n%s", file, got, w)
			}
		})
	}
}

func (o goldenOptions) options(t *testing.T) Options {
	t.Helper()
	opt := Options{Now: o.Now, ChatLogMaxChars: o.ChatLogMaxChars}
	var err error
	if opt.Location, err = time.LoadLocation(o.Timezone); err != nil {
		t.Fatal(err)
	}
	if o.MaxActiveAge != "" {
		if opt.MaxActiveAge, err = time.ParseDuration(o.MaxActiveAge); err != nil {
			t.Fatal(err)
		}
	}
	return opt
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
