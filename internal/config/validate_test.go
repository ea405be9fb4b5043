package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		key    string // "" when the config stays valid
		msg    string // part of the message
	}{
		{"valid", func(c *Config) {}, "", ""},
		{"tenant required", func(c *Config) { c.Tenant = "" }, "tenant", "required"},
		{"tenant upper case", func(c *Config) { c.Tenant = "Acme" }, "tenant", "a-z, 0-9 and -"},
		{"tenant with dot", func(c *Config) { c.Tenant = "acme.prod" }, "tenant", "a-z, 0-9 and -"},
		{"tenant with hyphen and digits", func(c *Config) { c.Tenant = "acme-2" }, "", ""},
		{"attribute code with hyphen", func(c *Config) { c.ESM.Attributes.ChatLog = "chat-log" }, "esm.attributes.chat_log", "letters, digits and _"},
		{"match attribute with dot", func(c *Config) { c.ESM.Person.MatchAttribute = "e.mail" }, "esm.person.match_attribute", "letters, digits and _"},
		{"folder code with hyphen", func(c *Config) { c.ESM.Folder = "chat-sessions" }, "", ""},

		{"schedule required", func(c *Config) { c.Schedule = "" }, "schedule", "required"},
		{"schedule 6 fields", func(c *Config) { c.Schedule = "0 */5 * * * *" }, "", ""},
		{"schedule CRON_TZ", func(c *Config) { c.Schedule = "CRON_TZ=Europe/Helsinki 0 7 * * 1-5" }, "", ""},
		{"schedule TZ", func(c *Config) { c.Schedule = "TZ=America/New_York 0 7 * * *" }, "", ""},
		{"schedule descriptor", func(c *Config) { c.Schedule = "@every 90s" }, "", ""},
		{"schedule 4 fields", func(c *Config) { c.Schedule = "* * * *" }, "schedule", "got 4"},
		{"schedule 7 fields", func(c *Config) { c.Schedule = "0 0 * * * * 2024" }, "schedule", "got 7"},
		{"schedule bad field", func(c *Config) { c.Schedule = "*/5 25 * * *" }, "schedule", "not a valid cron schedule"},
		{"schedule bad zone", func(c *Config) { c.Schedule = "CRON_TZ=Mars/Olympus * * * * *" }, "schedule", `unknown time zone "Mars/Olympus"`},
		{"schedule empty zone", func(c *Config) { c.Schedule = "TZ= * * * * *" }, "schedule", "unknown time zone"},
		{"schedule zone only", func(c *Config) { c.Schedule = "TZ=UTC" }, "schedule", "no schedule"},
		{"schedule never fires", func(c *Config) { c.Schedule = "0 0 30 2 *" }, "schedule", "never fires"},
		{"schedule every second", func(c *Config) { c.Schedule = "* * * * * *" }, "schedule", "fires 1s after the fire before it; passes must be at least 10s apart"},
		{"schedule every 5 s", func(c *Config) { c.Schedule = "*/5 * * * * *" }, "schedule", "fires 5s after"},
		{"schedule every 10 s", func(c *Config) { c.Schedule = "*/10 * * * * *" }, "", ""},
		{"schedule seconds 0 and 3", func(c *Config) { c.Schedule = "0,3 */5 * * * *" }, "schedule", "fires 3s after"},
		{"schedule seconds 0 and 55", func(c *Config) { c.Schedule = "0,55 * * * * *" }, "schedule", "fires 5s after"},
		{"schedule seconds 0 and 55, every other minute", func(c *Config) { c.Schedule = "0,55 */2 * * * *" }, "", ""},
		{"schedule seconds 0 and 55 across the hour", func(c *Config) { c.Schedule = "0,55 0,59 * * * *" }, "schedule", "fires 5s after"},
		{"schedule seconds 0 and 55 at 59 and 0 of one hour", func(c *Config) { c.Schedule = "0,55 0,59 7 * * *" }, "", ""},
		{"schedule every 5s descriptor", func(c *Config) { c.Schedule = "@every 5s" }, "schedule", "fires 5s after"},
		{"schedule every 10s descriptor", func(c *Config) { c.Schedule = "@every 10s" }, "", ""},
		{"schedule zone and every 2 s", func(c *Config) { c.Schedule = "CRON_TZ=Europe/Helsinki */2 * * * * *" }, "schedule", "fires 2s after"},

		{"timezone unknown", func(c *Config) { c.Timezone = "Europe/Helsinky" }, "timezone", `unknown time zone "Europe/Helsinky"`},
		{"timezone zone", func(c *Config) { c.Timezone = "Asia/Kolkata" }, "", ""},
		{"state_path required", func(c *Config) { c.StatePath = "" }, "state_path", "required"},

		{"chat url required", func(c *Config) { c.Chat.BaseURL = "" }, "chat.base_url", "required"},
		{"chat url relative", func(c *Config) { c.Chat.BaseURL = "/api/v1" }, "chat.base_url", "absolute"},
		{"chat url no host", func(c *Config) { c.Chat.BaseURL = "https:///api" }, "chat.base_url", "absolute"},
		{"chat url ftp", func(c *Config) { c.Chat.BaseURL = "ftp://chat.example.com" }, "chat.base_url", "absolute"},
		{"chat url opaque", func(c *Config) { c.Chat.BaseURL = "https:chat.example.com" }, "chat.base_url", "absolute"},
		{"chat url unparsable", func(c *Config) { c.Chat.BaseURL = "https://chat example.com/%zz" }, "chat.base_url", "absolute"},
		{"chat url query", func(c *Config) { c.Chat.BaseURL = "https://chat.example.com/api?x=1" }, "chat.base_url", "query"},
		{"chat url fragment", func(c *Config) { c.Chat.BaseURL = "https://chat.example.com/api#x" }, "chat.base_url", "fragment"},
		{"chat url userinfo", func(c *Config) { c.Chat.BaseURL = "https://u:p@chat.example.com/api" }, "chat.base_url", "user information"},
		{"chat url http remote", func(c *Config) { c.Chat.BaseURL = "http://chat.example.com/api" }, "chat.base_url", "chat.allow_insecure_http: true"},
		{"chat url http allowed", func(c *Config) {
			c.Chat.BaseURL, c.Chat.AllowInsecureHTTP = "http://chat.example.com/api", true
		}, "", ""},
		{"chat url http localhost", func(c *Config) { c.Chat.BaseURL = "http://localhost:8080/chat/api/v1" }, "", ""},
		{"chat url http 127.0.0.2", func(c *Config) { c.Chat.BaseURL = "http://127.0.0.2:8080/chat/api/v1" }, "", ""},
		{"chat url http ::1", func(c *Config) { c.Chat.BaseURL = "http://[::1]:8080/chat/api/v1" }, "", ""},
		{"chat url http 10.0.0.1", func(c *Config) { c.Chat.BaseURL = "http://10.0.0.1/api" }, "chat.base_url", "unencrypted"},
		{"chat url http localhost.evil", func(c *Config) { c.Chat.BaseURL = "http://localhost.evil.com/api" }, "chat.base_url", "unencrypted"},

		{"chat token required", func(c *Config) { c.Chat.Token = "" }, "chat.token", "required"},
		{"chat token file instead", func(c *Config) { c.Chat.Token, c.Chat.TokenFile = "", "/run/secrets/t" }, "", ""},
		{"chat token and file", func(c *Config) { c.Chat.TokenFile = "/run/secrets/t" }, "chat.token_file", "only one of chat.token and chat.token_file"},
		{"chat token line break", func(c *Config) { c.Chat.Token += "\r\n" }, "chat.token", "control characters"},
		{"chat page_size 0", func(c *Config) { c.Chat.PageSize = 0 }, "chat.page_size", "from 1 to 1000, got 0"},
		{"chat page_size 1000", func(c *Config) { c.Chat.PageSize = 1000 }, "", ""},
		{"chat page_size 1001", func(c *Config) { c.Chat.PageSize = 1001 }, "chat.page_size", "got 1001"},
		{"chat max_rps negative", func(c *Config) { c.Chat.MaxRPS = -1 }, "chat.max_rps", "0 (no limit) or more"},
		{"chat max_rps 0", func(c *Config) { c.Chat.MaxRPS = 0 }, "", ""},
		{"chat timeout 0", func(c *Config) { c.Chat.Timeout = 0 }, "chat.timeout", "positive"},
		{"chat timeout negative", func(c *Config) { c.Chat.Timeout = -time.Second }, "chat.timeout", "positive"},

		{"esm url http remote", func(c *Config) { c.ESM.BaseURL = "http://acme.efectecloud.com/rest-api/itsm/v1" }, "esm.base_url", "esm.allow_insecure_http"},
		{"esm url required", func(c *Config) { c.ESM.BaseURL = "" }, "esm.base_url", "required"},
		{"esm login required", func(c *Config) { c.ESM.Login = "" }, "esm.login", "required"},
		{"esm discovery pages", func(c *Config) { c.ESM.Discovery = DiscoveryPages }, "", ""},
		{"esm discovery unknown", func(c *Config) { c.ESM.Discovery = "paging" }, "esm.discovery", `"paging" is not stream or pages`},
		{"esm login line break", func(c *Config) { c.ESM.Login = "a\nb" }, "esm.login", "control characters"},
		{"esm password required", func(c *Config) { c.ESM.Password = "" }, "esm.password", "required"},
		{"esm password and file", func(c *Config) { c.ESM.PasswordFile = "p" }, "esm.password_file", "only one of"},
		{"esm password control", func(c *Config) { c.ESM.Password += "\x00" }, "esm.password", "control characters"},
		{"esm template required", func(c *Config) { c.ESM.Template = "" }, "esm.template", "required"},
		{"esm template bad code", func(c *Config) { c.ESM.Template = "chat session" }, "esm.template", "letters, digits"},
		{"esm folder required", func(c *Config) { c.ESM.Folder = "" }, "esm.folder", "required"},
		{"esm folder dot-dot", func(c *Config) { c.ESM.Folder = ".." }, "esm.folder", "letters, digits"},
		{"esm max_rps negative", func(c *Config) { c.ESM.MaxRPS = -0.1 }, "esm.max_rps", "or more"},
		{"esm timeout 0", func(c *Config) { c.ESM.Timeout = 0 }, "esm.timeout", "positive"},

		{"attribute disabled", func(c *Config) { c.ESM.Attributes.ChatLog = "" }, "", ""},
		{"session_id disabled", func(c *Config) { c.ESM.Attributes.SessionID = "" }, "esm.attributes.session_id", "cannot be disabled"},
		{"active disabled", func(c *Config) { c.ESM.Attributes.Active = "" }, "esm.attributes.active", "cannot be disabled"},
		{"attribute EQL injection", func(c *Config) { c.ESM.Attributes.Active = "x$ = 'y' OR $z" }, "esm.attributes.active", "letters, digits"},
		{"attribute code twice", func(c *Config) { c.ESM.Attributes.EndTime = "start_time" }, "esm.attributes.end_time", `"start_time" is also the code of esm.attributes.start_time`},
		{"active value required", func(c *Config) { c.ESM.ActiveValues.Active.Value = "" }, "esm.active_values.active.value", "required"},
		{"inactive code required", func(c *Config) { c.ESM.ActiveValues.Inactive.Code = "" }, "esm.active_values.inactive.code", "required"},
		{"active values equal", func(c *Config) { c.ESM.ActiveValues.Inactive.Value = "yes" }, "esm.active_values.inactive.value", "must differ"},
		{"person template required", func(c *Config) { c.ESM.Person.Template = "" }, "esm.person.template", "required"},
		{"person match_attribute required", func(c *Config) { c.ESM.Person.MatchAttribute = "" }, "esm.person.match_attribute", "required"},
		{"person unused", func(c *Config) {
			c.ESM.Attributes.Customer, c.ESM.Attributes.Members, c.ESM.Attributes.SupportPerson = "", "", ""
			c.ESM.Person = PersonConfig{}
		}, "", ""},

		{"concurrency 0", func(c *Config) { c.Sync.Concurrency = 0 }, "sync.concurrency", "from 1 to 256"},
		{"concurrency 256", func(c *Config) { c.Sync.Concurrency = 256 }, "", ""},
		{"concurrency 257", func(c *Config) { c.Sync.Concurrency = 257 }, "sync.concurrency", "got 257"},
		{"max_active_age 0", func(c *Config) { c.Sync.MaxActiveAge = 0 }, "sync.max_active_age", "positive"},
		{"chat_log_max_chars negative", func(c *Config) { c.Sync.ChatLogMaxChars = -1 }, "sync.chat_log_max_chars", "0 (unlimited) or more"},
		{"pass_timeout 0", func(c *Config) { c.Sync.PassTimeout = 0 }, "sync.pass_timeout", "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, minimal)
			tt.change(c)
			err := c.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			assertNoSecrets(t, err.Error())
			p := findProblem(t, verr.Problems, tt.key)
			if !strings.Contains(p.Message, tt.msg) || p.File != "acme.yaml" {
				t.Errorf("problem %q, want it to contain %q", p, tt.msg)
			}
		})
	}
}

func TestValidate_LineOfKey(t *testing.T) {
	text := strings.Replace(minimal, "  folder: chat_sessions", "  folder: chat sessions", 1)
	p := findProblem(t, parseProblems(t, text, testEnv()), "esm.folder")
	if got, want := p.String(), `acme.yaml:12: esm.folder: "chat sessions": a code holds only letters, digits, _ . and -`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValidate_EmptyVariable(t *testing.T) {
	p := findProblem(t, parseProblems(t, minimal, testEnv("ESM_LOGIN", "")), "esm.login")
	if got, want := p.String(), `acme.yaml:9: esm.login: required, but ${ESM_LOGIN} is empty`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseSchedule(t *testing.T) {
	helsinki, _ := time.LoadLocation("Europe/Helsinki")
	tests := []struct {
		spec    string
		seconds bool
		loc     *time.Location
	}{
		{"*/5 * * * *", false, nil},
		{"30 */5 * * * *", true, nil},
		{"CRON_TZ=Europe/Helsinki */5 * * * *", false, helsinki},
		{"TZ=Europe/Helsinki\t0 0 * * * *", true, helsinki},
		{"@hourly", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := parseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if s.seconds != tt.seconds || (s.loc == nil) != (tt.loc == nil) || s.loc.String() != tt.loc.String() {
				t.Errorf("got %+v, want seconds=%v loc=%v", s, tt.seconds, tt.loc)
			}
		})
	}
}

func TestProblem_String(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Line: 3, Key: "k", Message: "m"}, "a.yaml:3: k: m"},
		{Problem{File: "a.yaml", Key: "k", Message: "m"}, "a.yaml: k: m"},
		{Problem{File: "a.yaml", Line: 3, Message: "m"}, "a.yaml:3: m"},
		{Problem{Message: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
