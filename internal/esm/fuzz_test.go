package esm

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodeResponse feeds arbitrary bytes to every decoder of ESM
// responses: list pages and cards, template info, meta.errors, error
// bodies, card streams and token payloads. None may panic, and a card that decodes must
// encode again (it may be written back).
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"meta":{"count":1,"limit":200,"links":{"next":"x&filterId=7"}},"data":[{"dataCardId":"8","name":"c",` +
		`"data":{"is_chat_active":{"name":"Active","type":"static-value","values":[{"value":"Yes","code":"yes"}]},` +
		`"message_count":{"type":"number","values":[{"value":42}]},"members":{"type":"reference","values":[{"dataCardId":"7"},{"dataCardId":"9"}]},` +
		`"start_time":{"type":"date","values":[{"value":"2024-05-01T09:58:00Z"}]},"chat_log":{"type":"string","values":[]}}}]}`))
	f.Add([]byte(`{"name":"Chat session","code":"chat_session","attributes":{"is_chat_active":{"code":"is_chat_active","type":"static-value",` +
		`"multiValue":false,"values":[{"code":"yes","value":"Yes"},{"code":"no","value":"No"}]}},"allowedFolders":[{"folderCode":"f"}]}`))
	f.Add([]byte(`{"meta":{"errors":[{"attribute":"members","message":"no such card"},"plain text",{"code":"x"}]},"dataCard":{"dataCardId":"1"}}`))
	f.Add([]byte(`{"code":500,"message":"NullPointerException","error":"Internal Server Error"}`))
	f.Add([]byte(`{"data":[{"dataCardId":7,"data":{"a":{"values":[{"value":1e400},{"value":null},{"worklog":"x"}]}}}]}`))
	f.Add([]byte(`eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln`))
	f.Add([]byte(`{"data":[{"dataCardId":"9","data":{}},{"dataCardId":"8"}],"meta":{"count":2}}`))
	f.Add([]byte(`{"value":"ws-1"}`))
	f.Add([]byte("{\"value\":\"\x01\"}"))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var page wirePage
		if json.Unmarshal(b, &page) == nil {
			for _, c := range page.Data {
				checkEncodes(t, c)
			}
		}
		var c Card
		if c.UnmarshalJSON(b) == nil {
			checkEncodes(t, c)
		}
		var tmpl wireTemplate
		if json.Unmarshal(b, &tmpl) == nil {
			decodeAttributes(tmpl.Attributes)
		}
		var raws []json.RawMessage
		if json.Unmarshal(b, &raws) == nil {
			fieldErrors(raws)
		}
		_ = decodeStream(bytes.NewReader(b), 1<<16, func(c Card) error {
			checkEncodes(t, c)
			return nil
		})
		// plainValue reads elements of a document already checked.
		if v, ok := plainValue(b); ok && json.Valid(b) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 || string(m["value"]) != string(v) {
				t.Fatalf("plainValue(%s) = %s; encoding/json reads %v, %v", b, v, m, err)
			}
		}
		messageOf(b)
		jwtExpiry(string(b))
	})
}

// checkEncodes writes every value of a decoded card the way PatchCard would.
func checkEncodes(t *testing.T, c Card) {
	t.Helper()
	for code, vs := range c.Attributes {
		if _, err := json.Marshal(vs); err != nil {
			t.Fatalf("card %s attribute %s decoded but does not encode: %v", c.ID, code, err)
		}
	}
}
