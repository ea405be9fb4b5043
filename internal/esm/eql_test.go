package esm

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	if got := And("$a$ = 'x'", "", "$b$ = 'y'"); got != "$a$ = 'x' AND $b$ = 'y'" {
		t.Errorf("And = %s", got)
	}
	if got := And(); got != "" {
		t.Errorf("And() = %q", got)
	}
}

// TestClient_FindPersons: a server that answers with more than the filter
// asked for, here every person, does not make the client take the wrong
// ones.
func TestClient_FindPersons(t *testing.T) {
	t.Parallel()
	person := func(id, email string) string {
		return `{"dataCardId":"` + id + `","data":{"email":{"name":"E-mail","type":"string","values":[{"value":"` + email + `"}]}}}`
	}
	s := newAPIServer(t)
	s.mux.HandleFunc("GET /v1/dc/person/data", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, `{"meta":{"count":3,"limit":200,"links":{}},"data":[`+
			person("1003", "bob@example.com")+","+person("1002", "ann@example.com.evil")+","+person("1001", "Ann@Example.com")+`]}`)
	})
	got, err := s.client(t).FindPersons(t.Context(), "person", "email", "ann@EXAMPLE.com")
	if err != nil || !slices.Equal(got, []string{"1001"}) {
		t.Fatalf("FindPersons = %v, %v; want [1001]", got, err)
	}
}

// eqlCond is one $attr$ = 'value' of a filter.
type eqlCond struct{ attr, value string }

// parseEQL is a strict reader of the EQL subset of SPEC §4.2: conditions
// $code$ = 'value' joined by AND, a doubled quote inside a value standing
// for one. It is how the tests prove what a query means.
func parseEQL(s string) ([]eqlCond, error) {
	var conds []eqlCond
	for rest := s; rest != ""; {
		if len(conds) > 0 {
			var ok bool
			if rest, ok = strings.CutPrefix(rest, " AND "); !ok {
				return nil, fmt.Errorf("want AND at %q", rest)
			}
		}
		c, after, err := parseCond(rest)
		if err != nil {
			return nil, err
		}
		conds, rest = append(conds, c), after
	}
	return conds, nil
}

func parseCond(s string) (eqlCond, string, error) {
	s, ok := strings.CutPrefix(s, "$")
	code, s, found := strings.Cut(s, "$")
	if !ok || !found || ValidCode(code) != nil {
		return eqlCond{}, "", fmt.Errorf("want $code$ at %q", s)
	}
	if s, ok = strings.CutPrefix(s, " = '"); !ok {
		return eqlCond{}, "", fmt.Errorf("want = ' after $%s$", code)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return eqlCond{code, b.String()}, s[i+1:], nil
	}
	return eqlCond{}, "", fmt.Errorf("unterminated string")
}
