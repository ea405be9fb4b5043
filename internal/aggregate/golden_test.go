package aggregate_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/transcript"
)

var update = flag.Bool("update", false, "rewrite the golden card.json files under testdata/golden")

// TestGolden aggregates every transcript under testdata/golden and compares
// the card with the case's card.json. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	cases, err := transcript.ReadDir(filepath.Join("..", "..", "testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 12 {
		t.Fatalf("found %d golden cases, want at least 12", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			opt, err := c.Options.Aggregate()
			if err != nil {
				t.Fatal(err)
			}
			got := marshal(t, aggregate.Aggregate(c.Session, c.Messages, opt))
			file := filepath.Join(c.Dir, "card.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want aggregate.Card
			readJSON(t, file, &want)
			if w := marshal(t, want); !bytes.Equal(got, w) {
				t.Errorf("card differs from %s\ngot:\n%s\nwant:\n%s", file, got, w)
			}
		})
	}
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
