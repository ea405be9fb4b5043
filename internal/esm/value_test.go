package esm

import (
	"encoding/json"
	"testing"
	"time"
)

func TestValue_MarshalJSON(t *testing.T) {
	helsinki := time.FixedZone("EEST", 3*3600)
	tests := []struct {
		name string
		in   Value
		want string
	}{
		{"String", String("Maija"), `{"value":"Maija"}`},
		{"StringEscaped", String("a \"b\"\n<c> & ä"), `{"value":"a \"b\"\n\u003cc\u003e \u0026 ä"}`},
		{"EmptyString", String(""), `{"value":""}`},
		{"Number", Number(42), `{"value":42}`},
		{"NumberZero", Number(0), `{"value":0}`},
		{"NumberNegative", Number(-3), `{"value":-3}`},
		{"DateTimeUTC", DateTime(time.Date(2024, 5, 1, 9, 58, 0, 0, time.UTC)), `{"value":"2024-05-01T09:58:00Z"}`},
		{"DateTimeZoneAndFraction", DateTime(time.Date(2024, 5, 1, 12, 58, 0, 999e6, helsinki)), `{"value":"2024-05-01T09:58:00Z"}`},
		{"Static", Static("No", "no"), `{"value":"No","code":"no"}`},
		{"StaticWithoutCode", Static("02.02.2011", ""), `{"value":"02.02.2011"}`},
		{"Ref", Ref("7"), `{"dataCardId":"7"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Marshal = %s, %v; want %s", got, err, tt.want)
			}
			var back Value
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			// Untyped, a date-time or a code-less static value reads back
			// as a string; a card's attribute type tells them apart.
			if tt.in.Kind() != KindDateTime && tt.name != "StaticWithoutCode" && back != tt.in {
				t.Errorf("round trip = %#v, want %#v", back, tt.in)
			}
		})
	}
	if _, err := json.Marshal(Value{}); err == nil {
		t.Error("Marshal(zero Value) succeeded")
	}
}

func TestDecodeValue(t *testing.T) {
	tests := []struct {
		name, in, typ string
		want          Value
		wantOK        bool
	}{
		{"String", `{"value":"x"}`, "string", String("x"), true},
		{"Number", `{"value":42}`, "number", Number(42), true},
		{"Decimal", `{"value":0.5}`, "number", Value{kind: KindNumber, text: "0.5"}, true},
		{"DateTime", `{"value":"2024-05-01T12:58:00+03:00"}`, "date", DateTime(time.Date(2024, 5, 1, 9, 58, 0, 0, time.UTC)), true},
		{"DateOnly", `{"value":"2024-05-01"}`, "date", String("2024-05-01"), true},
		{"DateTimeUntyped", `{"value":"2024-05-01T09:58:00Z"}`, "", String("2024-05-01T09:58:00Z"), true},
		{"Static", `{"value":"Yes","code":"yes"}`, "static-value", Static("Yes", "yes"), true},
		{"StaticUntyped", `{"value":"Yes","code":"yes"}`, "", Static("Yes", "yes"), true},
		{"StaticNullCode", `{"value":"Yes","code":null}`, "static-value", Static("Yes", ""), true},
		{"StaticNumericValue", `{"value":2,"code":"two"}`, "static-value", Static("2", "two"), true},
		{"RefRich", `{"name":"Ann","dataCardId":"21357","templateCode":"person","hidden":false}`, "reference", Ref("21357"), true},
		{"RefNumericID", `{"dataCardId":21357}`, "", Ref("21357"), true},
		{"Null", `{"value":null}`, "string", Value{}, false},
		{"Bool", `{"value":true}`, "string", Value{kind: KindOther, text: `{"value":true}`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := decodeValue([]byte(tt.in), tt.typ)
			if err != nil || ok != tt.wantOK || got != tt.want {
				t.Fatalf("decodeValue = %#v, %v, %v; want %#v, %v", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestValue_Accessors(t *testing.T) {
	if n, ok := Number(42).Int(); !ok || n != 42 {
		t.Errorf("Int = %d, %v", n, ok)
	}
	if _, ok := String("42").Int(); ok {
		t.Error("String(42).Int succeeded")
	}
	want := time.Date(2024, 5, 1, 9, 58, 0, 0, time.UTC)
	if got, ok := DateTime(want).Time(); !ok || !got.Equal(want) {
		t.Errorf("Time = %v, %v", got, ok)
	}
	if Ref("7").RefID() != "7" || String("7").RefID() != "" {
		t.Error("RefID")
	}
	if v := Static("No", "no"); v.Text() != "No" || v.Code() != "no" || v.Kind() != KindStatic {
		t.Errorf("Static = %#v", v)
	}
}

func TestCard_UnmarshalJSON_Tolerant(t *testing.T) {
	var c Card
	in := `{"dataCardId":12,"unknown":{"x":1},"data":{"a":{"values":null},"b":{"type":"string"},
		"c":{"name":"C","type":"number","values":[{"value":1},{"value":null}]}}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "12" || len(c.Values("a")) != 0 || len(c.Values("b")) != 0 || len(c.Values("c")) != 1 || c.Text("c") != "1" {
		t.Errorf("card = %+v", c)
	}
	if _, ok := c.First("missing"); ok {
		t.Error("First(missing) found a value")
	}
}
