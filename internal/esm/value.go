package esm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says which of Efecte's value shapes a Value has.
type Kind uint8

// Value kinds. KindOther holds shapes this client does not model (worklog
// entries, external references), kept verbatim so that they survive a read.
const (
	KindString Kind = iota + 1
	KindNumber
	KindDateTime
	KindStatic
	KindRef
	KindOther
)

var kindNames = [...]string{"invalid", "string", "number", "date-time", "static", "reference", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one entry of an attribute's "values" array. Values are comparable
// with ==, so that the caller can tell whether a card would change.
//
// An attribute is a []Value; nil or empty means "no value" and is written as
// "values":[].
type Value struct {
	kind Kind
	// text is the string, the static menu's display value, the number
	// literal, the date-time in RFC 3339 UTC, the referenced card id, or
	// for KindOther the compact JSON object.
	text string
	code string
}

// String returns a string value: {"value":"…"}.
func String(s string) Value { return Value{kind: KindString, text: s} }

// Number returns a whole-number value: {"value":42}.
func Number(n int64) Value { return Value{kind: KindNumber, text: strconv.FormatInt(n, 10)} }

// DateTime returns a date-time value in UTC, truncated to whole seconds:
// {"value":"2024-05-01T09:58:00Z"}.
func DateTime(t time.Time) Value {
	return Value{kind: KindDateTime, text: t.UTC().Truncate(time.Second).Format(time.RFC3339)}
}

// Static returns a static menu value, given by its display value and code:
// {"value":"No","code":"no"}.
func Static(value, code string) Value { return Value{kind: KindStatic, text: value, code: code} }

// Ref returns a reference to the data card with the given id:
// {"dataCardId":"7"}.
func Ref(id string) Value { return Value{kind: KindRef, text: id} }

// Kind returns the value's shape; zero for the zero Value.
func (v Value) Kind() Kind { return v.kind }

// Text returns the value as Efecte shows it: the string, the static display
// value, the number literal, the RFC 3339 date-time or the referenced id.
func (v Value) Text() string { return v.text }

// Code returns a static menu value's code, "" for other kinds or when the
// menu entry has none.
func (v Value) Code() string { return v.code }

// RefID returns the referenced card id of a KindRef value, else "".
func (v Value) RefID() string {
	if v.kind == KindRef {
		return v.text
	}
	return ""
}

// Int returns a number value as an int64; false when v is not a whole number.
func (v Value) Int() (int64, bool) {
	if v.kind != KindNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(v.text, 10, 64)
	return n, err == nil
}

// Time returns a date-time value; false for other kinds.
func (v Value) Time() (time.Time, bool) {
	if v.kind != KindDateTime {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v.text)
	return t, err == nil
}

var constructors = map[Kind]string{KindString: "String", KindNumber: "Number", KindDateTime: "DateTime", KindRef: "Ref"}

// GoString shows the value with its kind, for test failures and debugging.
func (v Value) GoString() string {
	switch v.kind {
	case KindStatic:
		return fmt.Sprintf("esm.Static(%q, %q)", v.text, v.code)
	case KindString, KindNumber, KindDateTime, KindRef:
		return fmt.Sprintf("esm.%s(%q)", constructors[v.kind], v.text)
	}
	return fmt.Sprintf("esm.Value{%s %q}", v.kind, v.text)
}

// MarshalJSON writes the exact wire shape of SPEC §4.2.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case KindString, KindDateTime:
		return json.Marshal(struct {
			Value string `json:"value"`
		}{v.text})
	case KindNumber:
		if !json.Valid([]byte(v.text)) {
			return nil, fmt.Errorf("esm: invalid number %q", v.text)
		}
		return []byte(`{"value":` + v.text + `}`), nil
	case KindStatic:
		return json.Marshal(struct {
			Value string `json:"value"`
			Code  string `json:"code,omitempty"`
		}{v.text, v.code})
	case KindRef:
		return json.Marshal(struct {
			ID string `json:"dataCardId"`
		}{v.text})
	case KindOther:
		return []byte(v.text), nil
	}
	return nil, fmt.Errorf("esm: cannot encode a zero Value")
}

// UnmarshalJSON reads one value without knowing its attribute's type; see
// decodeValue.
func (v *Value) UnmarshalJSON(b []byte) error {
	d, ok, err := decodeValue(b, "")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("esm: empty value %s", b)
	}
	*v = d
	return nil
}

// wireValue is the union of Efecte's value element shapes.
type wireValue struct {
	Value      json.RawMessage `json:"value"`
	Code       json.RawMessage `json:"code"`
	DataCardID json.RawMessage `json:"dataCardId"`
}

// decodeValue reads one element of "values". attrType is the attribute's
// "type" when the card carries it ("string", "number", "date",
// "static-value", "reference", …). It reports false for an element that
// holds no value at all ({"value":null}).
func decodeValue(b []byte, attrType string) (Value, bool, error) {
	w, only, err := readValue(b)
	if err != nil || w == nil {
		return Value{}, false, err // null: no value
	}
	switch {
	case present(w.DataCardID):
		id, err := scalarText(w.DataCardID)
		return Ref(id), true, err
	case attrType == "static-value" || (w.Code != nil && attrType == ""):
		if !present(w.Value) {
			return Value{}, false, nil
		}
		val, err := scalarText(w.Value)
		if err != nil {
			return Value{}, false, err
		}
		code, err := scalarText(w.Code)
		return Static(val, code), true, err
	case attrType == "worklog" || attrType == "external-reference" || !only:
		return other(b)
	case !present(w.Value):
		return Value{}, false, nil
	}
	return decodeScalar(b, w.Value, attrType)
}

// decodeScalar reads {"value":…}; a value that is neither a string nor a
// number (Efecte has none, but a card must not fail to load over one) is
// kept as KindOther.
func decodeScalar(elem, raw json.RawMessage, attrType string) (Value, bool, error) {
	raw = bytes.TrimSpace(raw)
	if raw[0] != '"' {
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return other(elem)
		}
		return Value{kind: KindNumber, text: string(raw)}, true, nil
	}
	s, err := unquote(raw)
	if err != nil {
		return Value{}, false, err
	}
	if attrType == "date" || attrType == "datetime" || attrType == "date-time" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return DateTime(t), true, nil
		}
	}
	return String(s), true, nil
}

func other(elem json.RawMessage) (Value, bool, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, elem); err != nil {
		return Value{}, false, err
	}
	return Value{kind: KindOther, text: buf.String()}, true, nil
}

// readValue reads the members of a value element that decodeValue knows,
// and whether it has no others; nil for null. A pass decodes a value of
// every active card, so the commonest element, {"value":"text"} without
// escapes, is read without reflection; one decode into a map does the rest.
func readValue(b []byte) (*wireValue, bool, error) {
	if v, ok := plainValue(b); ok {
		return &wireValue{Value: v}, true, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false, fmt.Errorf("esm: decode value: %w", err)
	}
	if m == nil {
		return nil, false, nil
	}
	return &wireValue{Value: m["value"], Code: m["code"], DataCardID: m["dataCardId"]}, onlyValueKeys(m), nil
}

// plainValue returns the string literal of {"value":"text"}, when b is
// exactly that with no escape in text.
func plainValue(b []byte) (json.RawMessage, bool) {
	const prefix = `{"value":"`
	b = bytes.TrimSpace(b)
	n := len(b)
	if n < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[n-2] != '"' || b[n-1] != '}' {
		return nil, false
	}
	v := b[len(prefix)-1 : n-1]
	if bytes.IndexByte(v[1:len(v)-1], '"') >= 0 || bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	return v, true
}

// onlyValueKeys reports whether the element's keys are those of a plain
// value, so that worklog entries and external references stay KindOther
// even when the card does not say the attribute's type.
func onlyValueKeys(m map[string]json.RawMessage) bool {
	for k := range m {
		switch k {
		case "value", "code", "dataCardId":
		default:
			return false
		}
	}
	return true
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(bytes.TrimSpace(raw)) != "null"
}

// scalarText reads a JSON string or number as text; null is "".
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if !present(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		return unquote(raw)
	}
	if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
		return "", fmt.Errorf("esm: %s is neither string nor number", raw)
	}
	return string(raw), nil
}

// unquote reads a JSON string that encoding/json has already checked (it
// comes from a json.RawMessage): one without escapes is its bytes, valid
// UTF-8 provided. Cards are decoded by the thousand each pass.
func unquote(raw []byte) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : n-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// equalFoldTrim compares two emails the way SPEC §4.2 asks: trimmed and
// case-insensitive.
func equalFoldTrim(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
