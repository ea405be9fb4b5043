package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // zones must load in images without /usr/share/zoneinfo
	"unicode"

	"github.com/robfig/cron/v3"
)

// Problem is one thing wrong with a config. Line is 0 when the key was not
// in the file (a missing required key) or the file is not known.
type Problem struct {
	File    string
	Line    int
	Key     string
	Message string
}

// String formats the problem as "file:line: key: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in one or more config files.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks every rule of SPEC §3 and returns a *ValidationError
// listing all problems, or nil. Messages never quote a secret.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.top()
	v.chat()
	v.esm()
	v.sync()
	return v.err()
}

type validator struct {
	c        *Config
	problems []Problem
}

func (v *validator) add(key, format string, args ...any) {
	v.problems = append(v.problems, Problem{
		File: v.c.File, Line: v.c.lines[key], Key: key, Message: fmt.Sprintf(format, args...),
	})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

// required reports an empty value and returns false for it.
func (v *validator) required(key, value string) bool {
	if value != "" {
		return true
	}
	if name, ok := v.c.fromEnv[key]; ok {
		v.add(key, "required, but ${%s} is empty", name)
	} else {
		v.add(key, "required")
	}
	return false
}

// shown quotes a value for a message, or names its variable when it came
// from the environment.
func (v *validator) shown(key, value string) string {
	if name, ok := v.c.fromEnv[key]; ok {
		return "the value of ${" + name + "}"
	}
	return fmt.Sprintf("%q", value)
}

var tenantRE = regexp.MustCompile(`^[a-z0-9-]+$`)

func (v *validator) top() {
	c := v.c
	if v.required("tenant", c.Tenant) && !tenantRE.MatchString(c.Tenant) {
		v.add("tenant", "%s: use only a-z, 0-9 and -", v.shown("tenant", c.Tenant))
	}
	if v.required("schedule", c.Schedule) {
		if s, err := parseSchedule(c.Schedule); err != nil {
			// The parser's messages quote the schedule, which may have
			// come from the environment.
			if name, ok := c.fromEnv["schedule"]; ok {
				v.add("schedule", "the value of ${%s} is not a valid schedule", name)
			} else {
				v.add("schedule", "%v", err)
			}
		} else if gap := shortestGap(s.cron); gap < MinScheduleInterval {
			v.add("schedule", "fires %s after the fire before it; passes must be at least %s apart "+
				"(a pass of many sessions takes longer, and the APIs would be polled without pause)", gap, MinScheduleInterval)
		}
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		v.add("timezone", "unknown time zone %s", v.shown("timezone", c.Timezone))
	}
	v.required("state_path", c.StatePath)
}

func (v *validator) chat() {
	c := &v.c.Chat
	if !slices.Contains(Platforms, c.Platform) {
		v.add("chat.platform", "%s is not one of %s", v.shown("chat.platform", c.Platform), strings.Join(Platforms, ", "))
	}
	v.baseURL("chat.base_url", c.BaseURL, c.AllowInsecureHTTP)
	block := c.block()
	if block == nil || block.usesToken() {
		v.secret("chat.token", c.Token, "chat.token_file", c.TokenFile)
	} else {
		v.unused("chat.token", c.Token != "", "it signs in with chat.client_id and chat.client_secret")
		v.unused("chat.token_file", c.TokenFile != "", "it signs in with chat.client_id and chat.client_secret")
	}
	v.between("chat.page_size", c.PageSize, 1, 1000)
	v.rate("chat.max_rps", c.MaxRPS)
	v.positive("chat.timeout", c.Timeout)
	if block != nil {
		block.validate(v)
	}
}

// unused reports a common chat key that chat.platform does not use: set in
// the file, or holding a value.
func (v *validator) unused(key string, set bool, why string) {
	if set || v.c.lines[key] > 0 {
		v.add(key, "not used by chat.platform %s: %s", v.c.Chat.Platform, why)
	}
}

func (v *validator) esm() {
	c := &v.c.ESM
	v.baseURL("esm.base_url", c.BaseURL, c.AllowInsecureHTTP)
	if v.required("esm.login", c.Login) && hasControl(c.Login) {
		v.add("esm.login", "contains control characters")
	}
	v.secret("esm.password", c.Password, "esm.password_file", c.PasswordFile)
	v.code("esm.template", c.Template, true)
	v.code("esm.folder", c.Folder, true)
	v.rate("esm.max_rps", c.MaxRPS)
	v.positive("esm.timeout", c.Timeout)
	if c.Discovery != DiscoveryStream && c.Discovery != DiscoveryPages {
		v.add("esm.discovery", "%s is not %s or %s", v.shown("esm.discovery", c.Discovery), DiscoveryStream, DiscoveryPages)
	}
	v.attributes()
	v.menuValue("esm.active_values.active", c.ActiveValues.Active)
	v.menuValue("esm.active_values.inactive", c.ActiveValues.Inactive)
	if a, i := c.ActiveValues.Active, c.ActiveValues.Inactive; a.Value != "" && strings.EqualFold(a.Value, i.Value) {
		v.add("esm.active_values.inactive.value", "must differ from esm.active_values.active.value")
	}
	persons := c.Attributes.UsesPersons()
	v.code("esm.person.template", c.Person.Template, persons)
	v.attrCode("esm.person.match_attribute", c.Person.MatchAttribute, persons)
	if c.Person.UnresolvedTTL < 0 {
		v.add("esm.person.unresolved_ttl", "must be 0 or more, got %s", c.Person.UnresolvedTTL)
	}
}

func (v *validator) attributes() {
	a := v.c.ESM.Attributes
	codes := []struct{ name, code string }{
		{"session_id", a.SessionID}, {"chat_log", a.ChatLog}, {"message_count", a.MessageCount},
		{"members", a.Members}, {"support_person", a.SupportPerson}, {"customer", a.Customer},
		{"start_time", a.StartTime}, {"end_time", a.EndTime},
		{"first_reply_wait", a.FirstReplyWait}, {"active", a.Active},
	}
	used := map[string]string{}
	for _, attr := range codes {
		key := "esm.attributes." + attr.name
		if attr.code == "" {
			if attr.name == "session_id" || attr.name == "active" {
				v.add(key, "cannot be disabled: syncworker finds the cards by it")
			}
			continue
		}
		if !v.attrCode(key, attr.code, true) {
			continue
		}
		if other, dup := used[attr.code]; dup {
			v.add(key, "%s is also the code of esm.attributes.%s", v.shown(key, attr.code), other)
		}
		used[attr.code] = attr.name
	}
}

func (v *validator) sync() {
	s := v.c.Sync
	v.between("sync.concurrency", s.Concurrency, 1, 256)
	v.positive("sync.max_active_age", s.MaxActiveAge)
	if s.ChatLogMaxChars < 0 {
		v.add("sync.chat_log_max_chars", "must be 0 (unlimited) or more, got %d", s.ChatLogMaxChars)
	}
	v.positive("sync.pass_timeout", s.PassTimeout)
	v.positive("sync.refresh_after", s.RefreshAfter)
	if s.ChangeMargin < 0 {
		v.add("sync.change_margin", "must be 0 or more, got %s", s.ChangeMargin)
	}
}

// baseURL checks an API base URL: absolute http(s) with a host, nothing
// that would be lost or leaked when paths are appended, and TLS unless the
// host is this machine or plain http is explicitly allowed.
func (v *validator) baseURL(key, raw string, allowInsecure bool) {
	if !v.required(key, raw) {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		v.add(key, "want an absolute http:// or https:// URL with a host")
	case u.User != nil:
		v.add(key, "must not hold user information; credentials have keys of their own")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		v.add(key, "must not have a query or fragment")
	case u.Scheme == "http" && !allowInsecure && !isLoopback(u.Hostname()):
		section, _, _ := strings.Cut(key, ".")
		v.add(key, "plain http:// to a host other than this machine would send credentials unencrypted: "+
			"use https://, or set %s.allow_insecure_http: true", section)
	}
}

// isLoopback reports whether host is this machine: localhost, 127.0.0.0/8
// or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// secret checks that exactly one of a literal secret and its file is set.
// The secret itself is never quoted.
func (v *validator) secret(key string, value Secret, fileKey, file string) {
	switch {
	case value != "" && file != "":
		v.add(fileKey, "set only one of %s and %s", key, fileKey)
	case file != "":
		return // read and checked by ReadFiles
	case value == "":
		if name, ok := v.c.fromEnv[key]; ok {
			v.add(key, "required, but ${%s} is empty", name)
		} else {
			v.add(key, "required (or set %s)", fileKey)
		}
	case hasControl(string(value)):
		v.add(key, "contains control characters (a line break?)")
	}
}

// optionalSecret checks a secret that may be left out: at most one of it
// and its file, no control characters, and not empty when it names a
// variable (an empty variable is more likely a slip than a choice).
func (v *validator) optionalSecret(key string, value Secret, fileKey, file string) {
	switch name, fromEnv := v.c.fromEnv[key]; {
	case value != "" && file != "":
		v.add(fileKey, "set only one of %s and %s", key, fileKey)
	case value == "" && fromEnv:
		v.add(key, "${%s} is empty: set it, or remove %s", name, key)
	case hasControl(string(value)):
		v.add(key, "contains control characters (a line break?)")
	}
}

// names checks a list of names: none empty, none with control characters.
func (v *validator) names(key string, names []string) {
	for i, name := range names {
		key := indexKey(key, i)
		switch {
		case name == "":
			v.required(key, name)
		case hasControl(name):
			v.add(key, "contains control characters")
		}
	}
}

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	// attrCodeRE is stricter: attribute codes stand inside EQL's $code$,
	// and the ESM client refuses anything else there.
	attrCodeRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// attrCode checks an attribute code.
func (v *validator) attrCode(key, value string, needed bool) bool {
	if !v.code(key, value, needed) {
		return false
	}
	if !attrCodeRE.MatchString(value) {
		v.add(key, "%s: an attribute code holds only letters, digits and _", v.shown(key, value))
		return false
	}
	return true
}

// code checks an ESM template, folder or attribute code. Codes go into
// URL paths and EQL filters ($code$), so only plain characters are allowed.
func (v *validator) code(key, value string, needed bool) bool {
	if value == "" {
		if needed {
			v.required(key, value)
		}
		return false
	}
	if !codeRE.MatchString(value) {
		v.add(key, "%s: a code holds only letters, digits, _ . and -", v.shown(key, value))
		return false
	}
	return true
}

func (v *validator) menuValue(key string, m MenuValue) {
	v.required(key+".value", m.Value)
	if hasControl(m.Value) {
		v.add(key+".value", "contains control characters")
	}
	v.code(key+".code", m.Code, true)
}

func (v *validator) between(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(key, "must be from %d to %d, got %d", lo, hi, n)
	}
}

func (v *validator) rate(key string, r float64) {
	if r < 0 {
		v.add(key, "must be 0 (no limit) or more, got %g", r)
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "must be a positive duration, got %s", d)
	}
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// schedule is a parsed schedule: what the scheduler must be told.
type schedule struct {
	seconds bool
	loc     *time.Location
	cron    cron.Schedule
}

// The parsers gocron/v2 uses for a 5-field and a 6-field crontab.
var (
	standardParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	secondsParser  = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// MinScheduleInterval is the shortest time allowed between two passes of
// a schedule. Tests of the command line lower it to run passes every
// second; nothing else should change it.
var MinScheduleInterval = 10 * time.Second

// shortestGap returns the shortest time between two consecutive firings of
// s, or a day when it is longer than a minute (a schedule without seconds
// never fires more often than every minute).
func shortestGap(s cron.Schedule) time.Duration {
	const long = 24 * time.Hour
	switch s := s.(type) {
	case cron.ConstantDelaySchedule:
		return s.Delay
	case *cron.SpecSchedule:
		var secs []int
		for i := range 60 {
			if s.Second&(1<<i) != 0 {
				secs = append(secs, i)
			}
		}
		if len(secs) < 2 {
			return long
		}
		// Every minute that fires fires at each of secs, so the gaps
		// inside a minute are exact; the gap from the last second of one
		// minute to the first of the next counts only when two
		// consecutive minutes fire, which the schedule itself tells.
		gap := long
		for i := 1; i < len(secs); i++ {
			gap = min(gap, time.Duration(secs[i]-secs[i-1])*time.Second)
		}
		wrap := time.Duration(60-secs[len(secs)-1]+secs[0]) * time.Second
		if wrap < gap && minutesFollowEachOther(s) {
			gap = wrap
		}
		return gap
	}
	return long
}

// minutesFollowEachOther reports whether s may fire in two consecutive
// minutes: two neighbouring minutes of an hour, or minute 59 and 0 of
// neighbouring hours (taking midnight as possible whenever both 23 and 0
// fire: days are hard to tell, and erring towards "too often" is safe).
func minutesFollowEachOther(s *cron.SpecSchedule) bool {
	bit := func(set uint64, i int) bool { return set&(1<<i) != 0 }
	for m := range 59 {
		if bit(s.Minute, m) && bit(s.Minute, m+1) {
			return true
		}
	}
	if !bit(s.Minute, 59) || !bit(s.Minute, 0) {
		return false
	}
	for h := range 24 {
		if bit(s.Hour, h) && bit(s.Hour, (h+1)%24) {
			return true
		}
	}
	return false
}

// parseSchedule checks a crontab of 5 or 6 fields, or a descriptor such as
// "@hourly", optionally after CRON_TZ=<zone> or TZ=<zone>. The prefix is
// handled here because the cron parser panics on a prefix without a space.
func parseSchedule(spec string) (s schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a valid cron schedule")
		}
	}()
	fields := strings.Fields(spec)
	if len(fields) > 0 && (strings.HasPrefix(fields[0], "CRON_TZ=") || strings.HasPrefix(fields[0], "TZ=")) {
		_, zone, _ := strings.Cut(fields[0], "=")
		if s.loc, err = time.LoadLocation(zone); err != nil || zone == "" {
			return s, fmt.Errorf("unknown time zone %q in %s", zone, fields[0])
		}
		fields = fields[1:]
	}
	parser := standardParser
	switch {
	case len(fields) == 0:
		return s, fmt.Errorf("no schedule")
	case strings.HasPrefix(fields[0], "@"):
	case len(fields) == 6:
		parser, s.seconds = secondsParser, true
	case len(fields) != 5:
		return s, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got %d", len(fields))
	}
	sched, err := parser.Parse(strings.Join(fields, " "))
	if err != nil {
		return s, fmt.Errorf("not a valid cron schedule: %v", err)
	}
	if sched.Next(time.Now()).IsZero() {
		return s, fmt.Errorf("never fires")
	}
	s.cron = sched
	return s, nil
}
