package state

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeWritten holds the fast path of decodeWritten to encoding/json:
// whatever it reads, encoding/json reads the same.
func FuzzDecodeWritten(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"chat_log":"9f86d081884c7d659a2feaa0c55ad015","members":""}`, `{"a":"1","a":"2"}`,
		`{"a":"\u00e4"}`, `{"a":"<&>"}`, `{ "a": "b" }`, `{"a":"b",}`, `{"a":1}`, `{"a":"b"`, `{"ä":"ö"}`,
		"{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `null`, `{"a":"b","c":"d"}x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := flatObject(s)
		if !ok {
			return
		}
		var want map[string]string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("flatObject read %q, which encoding/json refuses: %v", s, err)
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("%q: flatObject %v, encoding/json %v", s, m, want)
		}
	})
}

func TestDecodeWritten(t *testing.T) {
	want := map[string]string{"chat_log": "9f86d0", "members": "", "x<y": "ä"}
	b, _ := json.Marshal(want)
	for _, s := range []string{string(b), `{"chat_log":"9f86d0","members":"","x\u003cy":"ä"}`, `{ "chat_log": "9f86d0", "members": "", "x<y": "ä" }`} {
		got, err := decodeWritten(s)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeWritten(%s) = %v, %v", s, got, err)
		}
	}
	if _, err := decodeWritten(`{"a":`); err == nil {
		t.Error("broken JSON read without error")
	}
}
