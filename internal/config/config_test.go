package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Secrets used by the tests; no error or rendering may contain them.
const (
	chatToken     = "chat-T0ken:#{not yaml}"
	esmPassword   = `pa:ss #word' "$x {[`
	appToken      = "so-app-S3cret"
	clientSecret  = "gc-client-S3cret:#"
	eventsSecret  = "ccai-events-S3cret-1"
	eventsSecret2 = "ccai-events-S3cret-2"
)

// minimal is the smallest valid tenant file.
const minimal = `
tenant: acme
schedule: "*/5 * * * *"
chat:
  base_url: https://chat.example.com/api/v1
  token: ${CHAT_TOKEN}
esm:
  base_url: https://acme.efectecloud.com/rest-api/itsm/v1
  login: ${ESM_LOGIN}
  password: ${ESM_PASSWORD}
  template: chat_session
  folder: chat_sessions
`

// testEnv is the environment the tests parse with.
func testEnv(extra ...string) func(string) (string, bool) {
	env := map[string]string{
		"CHAT_TOKEN":    chatToken,
		"ESM_LOGIN":     "svc-syncworker",
		"ESM_PASSWORD":  esmPassword,
		"APP_TOKEN":     appToken,
		"CLIENT_SECRET": clientSecret,
		"EVENTS_SECRET": eventsSecret,
		"NEXT_SECRET":   eventsSecret2,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse(strings.NewReader(text), "acme.yaml", testEnv())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// parseProblems parses text and returns its problems; it fails the test
// when the text is valid or the error is not a *ValidationError.
func parseProblems(t *testing.T, text string, env func(string) (string, bool)) []Problem {
	t.Helper()
	c, err := Parse(strings.NewReader(text), "acme.yaml", env)
	if err == nil {
		t.Fatalf("Parse succeeded: %v", c)
	}
	assertNoSecrets(t, err.Error())
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %T is not a *ValidationError: %v", err, err)
	}
	return verr.Problems
}

// findProblem returns the problem about key, failing when there is none.
func findProblem(t *testing.T, problems []Problem, key string) Problem {
	t.Helper()
	for _, p := range problems {
		if p.Key == key {
			return p
		}
	}
	t.Fatalf("no problem for key %q in %v", key, problems)
	return Problem{}
}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{chatToken, esmPassword, "T0ken", "ss #word", "S3cret"} {
		if strings.Contains(s, secret) {
			t.Errorf("secret %q leaked into %q", secret, s)
		}
	}
}

func TestParse_Defaults(t *testing.T) {
	c := mustParse(t, minimal)
	tests := []struct {
		name      string
		got, want any
	}{
		{"file", c.File, "acme.yaml"},
		{"timezone", c.Timezone, "UTC"},
		{"location", c.Location, time.UTC},
		{"state_path", c.StatePath, "./state/acme.db"},
		{"schedule_seconds", c.ScheduleSeconds, false},
		{"schedule_location", c.ScheduleLocation, (*time.Location)(nil)},
		{"chat.token", string(c.Chat.Token), chatToken},
		{"chat.page_size", c.Chat.PageSize, 200},
		{"chat.max_rps", c.Chat.MaxRPS, 20.0},
		{"chat.timeout", c.Chat.Timeout, 30 * time.Second},
		{"chat.allow_insecure_http", c.Chat.AllowInsecureHTTP, false},
		{"chat.token_file", c.Chat.TokenFile, ""},
		{"chat.ca_file", c.Chat.CAFile, ""},
		{"esm.login", c.ESM.Login, "svc-syncworker"},
		{"esm.password", string(c.ESM.Password), esmPassword},
		{"esm.max_rps", c.ESM.MaxRPS, 10.0},
		{"esm.timeout", c.ESM.Timeout, 30 * time.Second},
		{"esm.allow_insecure_http", c.ESM.AllowInsecureHTTP, false},
		{"esm.attributes", c.ESM.Attributes, Attributes{
			SessionID: "chat_session_id", ChatLog: "chat_log", MessageCount: "message_count",
			Members: "members", SupportPerson: "support_person", Customer: "customer",
			StartTime: "start_time", EndTime: "end_time", FirstReplyWait: "first_reply_wait",
			Active: "is_chat_active",
		}},
		{"esm.active_values.active", c.ESM.ActiveValues.Active, MenuValue{Value: "Yes", Code: "yes"}},
		{"esm.active_values.inactive", c.ESM.ActiveValues.Inactive, MenuValue{Value: "No", Code: "no"}},
		{"esm.person.template", c.ESM.Person.Template, "person"},
		{"esm.person.match_attribute", c.ESM.Person.MatchAttribute, "email"},
		{"sync.concurrency", c.Sync.Concurrency, 8},
		{"sync.max_active_age", c.Sync.MaxActiveAge, 168 * time.Hour},
		{"sync.chat_log_max_chars", c.Sync.ChatLogMaxChars, 0},
		{"sync.pass_timeout", c.Sync.PassTimeout, 10 * time.Minute},
		{"literal_secrets", len(c.LiteralSecrets), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestParse_AllKeys(t *testing.T) {
	c := mustParse(t, `
tenant: beta-2
schedule: "CRON_TZ=Europe/Helsinki   */30 * * * * *"
timezone: Europe/Helsinki
state_path: /var/lib/syncworker/beta.db
chat:
  base_url: http://127.0.0.1:8080/chat/api/v1
  token: literal-token
  ca_file: chat-ca.pem
  page_size: 50
  max_rps: 0.5
  timeout: 5s
esm:
  base_url: http://efecte.internal/rest-api/itsm/v1
  allow_insecure_http: true
  login: svc
  password_file: /run/secrets/esm
  ca_file: esm-ca.pem
  template: chat
  folder: chats
  max_rps: 0
  timeout: 1m
  attributes:
    chat_log: ""
    members: participants
  active_values:
    active: {value: "Kyllä", code: "k"}
    inactive: {value: "Ei", code: "e"}
  person:
    template: user
    match_attribute: mail
    unresolved_ttl: 1m
sync:
  concurrency: 1
  max_active_age: 24h
  chat_log_max_chars: 10000
  pass_timeout: 90s
  refresh_after: 30m
  change_margin: 5s
`)
	helsinki, _ := time.LoadLocation("Europe/Helsinki")
	tests := []struct {
		name      string
		got, want any
	}{
		{"schedule normalized", c.Schedule, "CRON_TZ=Europe/Helsinki */30 * * * * *"},
		{"schedule_seconds", c.ScheduleSeconds, true},
		{"schedule_location", c.ScheduleLocation, helsinki},
		{"location", c.Location, helsinki},
		{"state_path", c.StatePath, "/var/lib/syncworker/beta.db"},
		{"chat.page_size", c.Chat.PageSize, 50},
		{"chat.max_rps", c.Chat.MaxRPS, 0.5},
		{"chat.timeout", c.Chat.Timeout, 5 * time.Second},
		{"chat.ca_file", c.Chat.CAFile, "chat-ca.pem"},
		{"esm.allow_insecure_http", c.ESM.AllowInsecureHTTP, true},
		{"esm.password_file", c.ESM.PasswordFile, "/run/secrets/esm"},
		{"esm.password unread", string(c.ESM.Password), ""},
		{"esm.max_rps", c.ESM.MaxRPS, 0.0},
		{"esm.timeout", c.ESM.Timeout, time.Minute},
		{"chat_log disabled", c.ESM.Attributes.ChatLog, ""},
		{"members renamed", c.ESM.Attributes.Members, "participants"},
		{"other attribute default", c.ESM.Attributes.Customer, "customer"},
		{"active", c.ESM.ActiveValues.Active, MenuValue{Value: "Kyllä", Code: "k"}},
		{"person", c.ESM.Person, PersonConfig{Template: "user", MatchAttribute: "mail", UnresolvedTTL: time.Minute}},
		{"sync", c.Sync, SyncConfig{Concurrency: 1, MaxActiveAge: 24 * time.Hour, ChatLogMaxChars: 10000,
			PassTimeout: 90 * time.Second, RefreshAfter: 30 * time.Minute, ChangeMargin: 5 * time.Second}},
		{"literal_secrets", c.LiteralSecrets, []string{"chat.token"}},
		{"line of esm.timeout", c.Line("esm.timeout"), 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestConfig_RedactsSecrets(t *testing.T) {
	c := mustParse(t, minimal)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("loaded", "config", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "config", c, "token", c.Chat.Token)
	asJSON, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	renderings := map[string]string{
		"String": c.String(),
		"%v":     fmt.Sprintf("%v", *c),
		"%+v":    fmt.Sprintf("%+v", *c),
		"%#v":    fmt.Sprintf("%#v", c.Chat),
		"%s":     fmt.Sprintf("%s %s", c.Chat.Token, c.ESM.Password),
		"slog":   logged.String(),
		"json":   string(asJSON),
	}
	for name, s := range renderings {
		t.Run(name, func(t *testing.T) {
			assertNoSecrets(t, s)
			if !strings.Contains(s, "redacted") {
				t.Errorf("no [redacted] marker in %q", s)
			}
		})
	}
	if !strings.Contains(logged.String(), "tenant=acme") || !strings.Contains(logged.String(), `"tenant":"acme"`) {
		t.Errorf("log lacks the tenant: %s", logged.String())
	}
}

func TestSecret_StringEmpty(t *testing.T) {
	if got := Secret("").String(); got != "" {
		t.Errorf("empty secret renders as %q", got)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/x", "https://h/x"},
		{"https://u:pw@h/x", "https://u:xxxxx@h/x"},
		{"%zz@pw", "[redacted]"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
