package esm

import (
	"encoding/json"
	"fmt"
)

// Card is a data card as read back from ESM: its id and the values of the
// attributes the server returned. An attribute that is present with
// "values":[] maps to an empty slice; one the server left out is absent.
type Card struct {
	ID       string
	Name     string
	Template string
	Folder   string
	// Attributes maps attribute codes to their values.
	Attributes map[string][]Value
}

// Values returns the values of attribute attr, nil when it has none.
func (c Card) Values(attr string) []Value { return c.Attributes[attr] }

// First returns the first value of attribute attr.
func (c Card) First(attr string) (Value, bool) {
	vs := c.Attributes[attr]
	if len(vs) == 0 {
		return Value{}, false
	}
	return vs[0], true
}

// Text returns the text of the first value of attribute attr, "" when it
// has none.
func (c Card) Text(attr string) string {
	v, _ := c.First(attr)
	return v.Text()
}

// wireCard is Efecte's RESTDataCard; with dataCards=false a list holds
// info elements of the same shape without "data".
type wireCard struct {
	DataCardID   json.RawMessage               `json:"dataCardId"`
	Name         string                        `json:"name"`
	TemplateCode string                        `json:"templateCode"`
	FolderCode   string                        `json:"folderCode"`
	Data         map[string]wireAttributeValue `json:"data"`
}

// wireAttributeValue is Efecte's RESTDataCardElement:
// {"name":"Subject","type":"string","values":[…]}.
type wireAttributeValue struct {
	Type   string            `json:"type"`
	Values []json.RawMessage `json:"values"`
}

// UnmarshalJSON reads Efecte's data card JSON, tolerating the richer
// attribute objects (name, type), reference details and unknown fields.
func (c *Card) UnmarshalJSON(b []byte) error {
	var w wireCard
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("esm: decode card: %w", err)
	}
	card, err := w.card()
	if err != nil {
		return err
	}
	*c = card
	return nil
}

// card turns the wire shape into a Card.
func (w *wireCard) card() (Card, error) {
	id, err := scalarText(w.DataCardID)
	if err != nil {
		return Card{}, fmt.Errorf("esm: decode card id: %w", err)
	}
	out := Card{ID: id, Name: w.Name, Template: w.TemplateCode, Folder: w.FolderCode,
		Attributes: make(map[string][]Value, len(w.Data))}
	for code, attr := range w.Data {
		vs := make([]Value, 0, len(attr.Values))
		for _, raw := range attr.Values {
			v, ok, err := decodeValue(raw, attr.Type)
			if err != nil {
				return Card{}, fmt.Errorf("esm: card %s attribute %s: %w", id, code, err)
			}
			if ok {
				vs = append(vs, v)
			}
		}
		out.Attributes[code] = vs
	}
	return out, nil
}

// wireData is the "data" object of a create or modify request.
type wireData map[string]wireValues

type wireValues struct {
	Values []Value `json:"values"`
}

// encodeData checks the attribute codes and turns nil into "values":[].
func encodeData(data map[string][]Value) (wireData, error) {
	out := make(wireData, len(data))
	for code, vs := range data {
		if err := ValidCode(code); err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.kind == 0 {
				return nil, fmt.Errorf("attribute %s: zero Value", code)
			}
		}
		if vs == nil {
			vs = []Value{}
		}
		out[code] = wireValues{Values: vs}
	}
	return out, nil
}
