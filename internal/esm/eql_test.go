package esm

import (
	"slices"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "'plain'"},
		{"O'Brien@example.com", "'O''Brien@example.com'"},
		{"''", "''''''"},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestEq_Injection parses what Eq and And build with a strict EQL reader
// and checks that every value came through as data: the query holds
// exactly the conditions that were asked for.
func TestEq_Injection(t *testing.T) {
	values := []string{
		"O'Brien@example.com",
		"x' OR $email$ = 'victim@example.com",
		"x'' OR ''1''=''1",
		"' OR '1'='1' --",
		"$email$",
		"a AND $b$ = 'c'",
		"line1\nOR $email$ = 'x'",
		"trailing quote'",
		"'",
		"",
	}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			q := And(must(Eq("email", v)), must(Eq("is_chat_active", "Yes")))
			got, err := parseEQL(q)
			want := []eqlCond{{"email", v}, {"is_chat_active", "Yes"}}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("parse(%s) = %v, %v; want %v", q, got, err, want)
			}
		})
	}
}

func TestEq(t *testing.T) {
	if got := must(Eq("email", "O'Brien@example.com")); got != "$email$ = 'O''Brien@example.com'" {
		t.Errorf("Eq = %s", got)
	}
	for _, code := range []string{"", "a$", "a b", "a,b", "$a$ = 'x' OR $b", "ä", "a\n", "a'"} {
		if _, err := Eq(code, "x"); err == nil {
			t.Errorf("Eq(%q) accepted an invalid code", code)
		}
	}
}

func TestAnd(t *testing.T) {
	if got := And("$a$ = 'x'", "", "$b$ = 'y'"); got != "$a$ = 'x' AND $b$ = 'y'" {
		t.Errorf("And = %s", got)
	}
	if got := And(); got != "" {
		t.Errorf("And() = %q", got)
	}
}

func TestClient_FindPersons(t *testing.T) {
	f := newFakeESM(t)
	ann := f.seed("person", map[string][]Value{"email": {String("Ann@Example.com")}})
	f.seed("person", map[string][]Value{"email": {String("ann@example.com.evil")}})
	f.seed("person", map[string][]Value{"email": {String("bob@example.com")}})
	f.looseFilter = true // the server answers with every person
	got, err := newTestClient(t, f.BaseURL()).FindPersons(t.Context(), "person", "email", "ann@EXAMPLE.com")
	if err != nil || !slices.Equal(got, []string{ann}) {
		t.Fatalf("FindPersons = %v, %v; want [%s]", got, err, ann)
	}
}
