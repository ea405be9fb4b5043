package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// restError is one entry of meta.errors (Efecte's RESTError).
type restError struct {
	AttributeCode string `json:"attributeCode,omitempty"`
	AttributeType string `json:"attributeType,omitempty"`
	Message       string `json:"message"`
	Error         string `json:"error"`
}

func (e restError) String() string {
	if e.AttributeCode == "" {
		return e.Message
	}
	return e.AttributeCode + ": " + e.Message
}

// wireAttrIn is an attribute as PATCH and POST send it.
type wireAttrIn struct {
	Values []map[string]any `json:"values"`
}

// parseValues validates the values sent for one attribute against the
// template and the existing cards, returning what to store or the errors.
// The caller holds st.mu.
func (st *esmStore) parseValues(t *template, code string, in []map[string]any) (int, []value, []restError) {
	i, a, ok := t.attr(code)
	if !ok {
		return 0, nil, []restError{{AttributeCode: code, Message: "unknown attribute of template " + t.code, Error: "Bad Request"}}
	}
	fail := func(format string, args ...any) restError {
		return restError{AttributeCode: code, AttributeType: a.typ, Message: fmt.Sprintf(format, args...), Error: "Bad Request"}
	}
	if len(in) > 1 && !a.multi {
		return i, nil, []restError{fail("attribute takes one value, got %d", len(in))}
	}
	var (
		out  []value
		errs []restError
	)
	for n, raw := range in {
		v, msg := st.parseValue(a, raw)
		if msg != "" {
			errs = append(errs, fail("value %d: %s", n+1, msg))
			continue
		}
		out = append(out, v)
	}
	return i, out, errs
}

// parseValue checks one value object against attribute a; it returns the
// reason it is refused, or "".
func (st *esmStore) parseValue(a *attrDef, raw map[string]any) (value, string) {
	val, hasVal := raw["value"]
	code, hasCode := raw["code"]
	ref, hasRef := raw["dataCardId"]
	if a.typ != TypeReference && hasRef {
		return value{}, "dataCardId given for a " + a.typ + " attribute"
	}
	if a.typ != TypeStatic && a.typ != TypeReference && hasCode {
		return value{}, "code given for a " + a.typ + " attribute"
	}
	switch a.typ {
	case TypeString:
		s, ok := val.(string)
		if !ok {
			return value{}, "want a string value"
		}
		if n := utf8.RuneCountInString(s); st.maxText > 0 && n > st.maxText {
			return value{}, fmt.Sprintf("value is %d characters long, at most %d allowed", n, st.maxText)
		}
		return value{text: s}, ""
	case TypeNumber:
		n, ok := val.(json.Number)
		if !ok {
			return value{}, "want a number value"
		}
		if _, err := n.Float64(); err != nil {
			return value{}, "want a number value"
		}
		return value{text: n.String()}, ""
	case TypeDate:
		s, ok := val.(string)
		t, err := time.Parse(time.RFC3339, s)
		if !ok || err != nil {
			return value{}, "want an RFC 3339 date-time value"
		}
		return value{text: t.UTC().Format(time.RFC3339)}, ""
	case TypeStatic:
		return staticValue(a, val, hasVal, code, hasCode)
	case TypeReference:
		return st.refValue(a, ref, hasRef)
	}
	return value{}, "unsupported attribute type " + a.typ
}

func staticValue(a *attrDef, val any, hasVal bool, code any, hasCode bool) (value, string) {
	if code == nil {
		hasCode = false // "code": null names no code, as ESM reads it back
	}
	vs, vok := val.(string)
	cs, cok := code.(string)
	if (hasVal && !vok) || (hasCode && !cok) || (!hasVal && !hasCode) {
		return value{}, "want a static value {value, code}"
	}
	for _, m := range a.menu {
		if (!hasVal || m.Value == vs) && (!hasCode || m.Code == cs) {
			return value{text: m.Value, code: m.Code}, ""
		}
	}
	return value{}, fmt.Sprintf("no static value %q/%q in the menu", vs, cs)
}

func (st *esmStore) refValue(a *attrDef, ref any, hasRef bool) (value, string) {
	var id string
	switch r := ref.(type) {
	case string:
		id = r
	case json.Number:
		id = r.String()
	}
	if !hasRef || id == "" {
		return value{}, "want a reference {dataCardId}"
	}
	n, err := strconv.ParseInt(id, 10, 64)
	c := st.cards[n]
	if err != nil || c == nil || c.td.t.code != a.target {
		return value{}, fmt.Sprintf("no %s card %q", a.target, id)
	}
	return value{ref: n}, ""
}

// wireValue renders v of attribute a as in a card body.
func (st *esmStore) wireValue(a *attrDef, v value) map[string]any {
	switch a.typ {
	case TypeNumber:
		return map[string]any{"value": json.Number(v.text)}
	case TypeStatic:
		// A menu entry without a code reads back with "code": null.
		var code any
		if v.code != "" {
			code = v.code
		}
		return map[string]any{"value": v.text, "code": code}
	case TypeReference:
		return st.wireRef(a, v.ref)
	}
	return map[string]any{"value": v.text}
}

// wireRef renders a reference the way ESM reads one back: with the
// referred card's name, template, url and flags besides its id. A card
// deleted since is still referred to, flagged deleted.
func (st *esmStore) wireRef(a *attrDef, id int64) map[string]any {
	out := map[string]any{
		"dataCardId":   strconv.FormatInt(id, 10),
		"name":         "",
		"templateCode": a.target,
		"templateName": "",
		"url":          cardURL(a.target, id),
		"hidden":       false,
		"deleted":      true,
	}
	if c := st.cards[id]; c != nil {
		out["name"], out["templateName"], out["deleted"] = c.name(), c.td.t.name, false
	}
	return out
}

// Value is an attribute value of a card as the Go API reads and writes it.
// Which fields count depends on the attribute type: Value for string,
// number (decimal text), date (RFC 3339) and static menus (display value);
// Code for static menus; DataCardID for references.
type Value struct {
	Value      string
	Code       string
	DataCardID string
}

// Text returns a string or date value.
func Text(s string) Value { return Value{Value: s} }

// Number returns a number value.
func Number(n float64) Value { return Value{Value: strconv.FormatFloat(n, 'f', -1, 64)} }

// Time returns a date value in RFC 3339 UTC seconds.
func Time(t time.Time) Value { return Value{Value: t.UTC().Format(time.RFC3339)} }

// Static returns a static menu value.
func Static(v StaticValue) Value { return Value{Value: v.Value, Code: v.Code} }

// Ref returns a reference to the card id.
func Ref(id string) Value { return Value{DataCardID: id} }

// raw turns v into the wire object for an attribute of type typ.
func (v Value) raw(typ string) map[string]any {
	m := make(map[string]any)
	switch typ {
	case TypeReference:
		m["dataCardId"] = v.DataCardID
		return m
	case TypeNumber:
		m["value"] = json.Number(v.Value)
	default:
		m["value"] = v.Value
	}
	if v.Code != "" {
		m["code"] = v.Code
	}
	return m
}

// Card is a data card as the Go API returns it.
type Card struct {
	ID       string
	Template string
	Folder   string
	Name     string
	// Values holds the attributes that have values, by attribute code.
	Values map[string][]Value
}

// Has reports whether attribute attr has at least one value.
func (c Card) Has(attr string) bool { return len(c.Values[attr]) > 0 }

// Text returns the first value of attr (a string, number text, date or
// static display value), "" when there is none.
func (c Card) Text(attr string) string {
	if v := c.Values[attr]; len(v) > 0 {
		return v[0].Value
	}
	return ""
}

// Code returns the static menu code of attr, "" when there is none.
func (c Card) Code(attr string) string {
	if v := c.Values[attr]; len(v) > 0 {
		return v[0].Code
	}
	return ""
}

// Number returns the number value of attr.
func (c Card) Number(attr string) (float64, bool) {
	if !c.Has(attr) {
		return 0, false
	}
	f, err := strconv.ParseFloat(c.Text(attr), 64)
	return f, err == nil
}

// Time returns the date value of attr.
func (c Card) Time(attr string) (time.Time, bool) {
	if !c.Has(attr) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, c.Text(attr))
	return t, err == nil
}

// Ref returns the first card id attr refers to, "" when none.
func (c Card) Ref(attr string) string {
	if v := c.Values[attr]; len(v) > 0 {
		return v[0].DataCardID
	}
	return ""
}

// Refs returns every card id attr refers to, in order.
func (c Card) Refs(attr string) []string {
	var ids []string
	for _, v := range c.Values[attr] {
		ids = append(ids, v.DataCardID)
	}
	return ids
}
