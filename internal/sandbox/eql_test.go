package sandbox

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseEQL(t *testing.T) {
	tmpl := chatTemplate(Options{}.withDefaults())
	idx := func(code string) int { i, _, _ := tmpl.attr(code); return i }
	sid, active := idx("chat_session_id"), idx("is_chat_active")
	c := func(attr int, v string) cond { return cond{attr: attr, value: v, lower: lower(v)} }
	tests := []struct {
		name    string
		filter  string
		want    []cond
		wantErr bool
	}{
		{"one", "$chat_session_id$ = 'ws-1'", []cond{c(sid, "ws-1")}, false},
		{"no blanks", "$chat_session_id$='ws-1'", []cond{c(sid, "ws-1")}, false},
		{"and", "$is_chat_active$ = 'Yes' AND $chat_session_id$ = 'a'", []cond{c(active, "Yes"), c(sid, "a")}, false},
		{"and lower-case, extra blanks", "  $is_chat_active$ = 'Yes'   and\t$chat_session_id$ = 'a'  ", []cond{c(active, "Yes"), c(sid, "a")}, false},
		{"doubled quote", "$chat_session_id$ = 'it''s'", []cond{c(sid, "it's")}, false},
		{"only a quote", "$chat_session_id$ = ''''", []cond{c(sid, "'")}, false},
		{"empty value", "$chat_session_id$ = ''", []cond{c(sid, "")}, false},
		{"operators are data", "$chat_session_id$ = 'a OR $x$ = ''b'' AND 1=1'", []cond{c(sid, "a OR $x$ = 'b' AND 1=1")}, false},
		{"unicode", "$chat_session_id$ = 'Mäkinen'", []cond{c(sid, "Mäkinen")}, false},
		{"OR", "$chat_session_id$ = 'a' OR $chat_session_id$ = 'b'", nil, true},
		{"escape attempt", "$chat_session_id$ = 'a' OR '1'='1'", nil, true},
		{"trailing garbage", "$chat_session_id$ = 'a' x", nil, true},
		{"dangling AND", "$chat_session_id$ = 'a' AND", nil, true},
		{"ANDx", "$chat_session_id$ = 'a' ANDx $chat_session_id$ = 'b'", nil, true},
		{"unterminated value", "$chat_session_id$ = 'a", nil, true},
		{"odd quotes", "$chat_session_id$ = 'a''", nil, true},
		{"unquoted", "$chat_session_id$ = a", nil, true},
		{"double quotes", `$chat_session_id$ = "a"`, nil, true},
		{"not equals", "$chat_session_id$ != 'a'", nil, true},
		{"like", "$chat_session_id$ LIKE 'a'", nil, true},
		{"unknown attribute", "$nope$ = 'a'", nil, true},
		{"unterminated attribute", "$chat_session_id = 'a'", nil, true},
		{"parentheses", "($chat_session_id$ = 'a')", nil, true},
		{"empty", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEQL(tmpl, tt.filter)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func lower(s string) string { return strings.ToLower(s) }
