package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/esmspec"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/state"
)

// TestMain reports how many ESM exchanges the tests checked against
// Efecte's document (see esmspec), visible with go test -v.
// lockedBuffer collects output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// result is what one in-process run of the command line produced.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line in-process with a stop channel that is never
// closed.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runProgram(&Program{}, args)
}

// quickRetry is the wait between attempts of runQuick. Production waits
// 250 ms to 5 s, and up to 10 s for a Retry-After, which makes a test
// that injects 5xx and 429 wait for tens of seconds while retrying the
// same requests the same number of times.
const quickRetry = time.Millisecond

// runQuick is run with retries that hardly wait, for tests whose subject is
// not the waiting.
func runQuick(t *testing.T, args ...string) result {
	t.Helper()
	return runProgram(&Program{retryWait: quickRetry}, args)
}

// runProgram runs args on p, collecting its output.
func runProgram(p *Program, args []string) result {
	var out, errs lockedBuffer
	p.Stdout, p.Stderr = &out, &errs
	code := p.Run(context.Background(), nil, args)
	return result{code, out.String(), errs.String()}
}

// newSandbox serves a sandbox with n generated sessions.
func newSandbox(t *testing.T, n int, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	if opts.ChatToken == "" {
		opts.ChatToken, opts.Login, opts.Password = sandboxChatToken, sandboxLogin, sandboxPassword
	}
	sb := sandbox.New(opts)
	t.Cleanup(func() { sb.Close() })
	if n > 0 {
		if _, err := sb.Generate(sandbox.GenOptions{Sessions: n, MessagesPerSession: 6, Agents: 3, Seed: 1}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(esmspec.Wrap(t, sb))
	t.Cleanup(srv.Close)
	return sb, strings.TrimPrefix(srv.URL, "http://")
}

// writeConfig writes a tenant file for the sandbox at addr into dir.
func writeConfig(t *testing.T, dir, tenant, addr, extra string) string {
	t.Helper()
	file := filepath.Join(dir, tenant+".yaml")
	body := sandboxConfig(tenant, addr, filepath.Join(dir, tenant+".db")) + extra
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// unlimited lifts the rate ceilings of the tenant file, for tests whose
// subject is not pacing.
func unlimited(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, noCeilings(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// noCeilings is the YAML of a tenant file with both rate ceilings lifted.
func noCeilings(yaml []byte) []byte {
	return bytes.Replace(yaml, []byte("\nesm:\n"), []byte("\n  max_rps: 0\nesm:\n  max_rps: 0\n"), 1)
}

// fileError returns the error of the line out prints for an unusable
// tenant file, unquoted; "" when there is none.
func fileError(t *testing.T, out, file string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, "file="+file+" error=")
		if !ok {
			continue
		}
		msg, err := strconv.Unquote(rest)
		if err != nil {
			t.Errorf("line %q: error= is not quoted: %v", l, err)
		}
		return msg
	}
	return ""
}

func TestOnce_WritesAndSummarises(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 20, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	unlimited(t, file)
	r := run(t, "once", "-config", file)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "tenant=acme sessions=") || !strings.Contains(r.stdout, " failed=0 ") {
		t.Errorf("summary line = %q", r.stdout)
	}
	r = run(t, "once", "-config", file)
	if !strings.Contains(r.stdout, " written=0 ") {
		t.Errorf("second pass wrote: %q", r.stdout)
	}
	_ = sb
}

func TestOnce_StateHeldByAnotherProcessExits3(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 3, sandbox.Options{})
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "")
	held, err := state.Open(filepath.Join(dir, "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r := run(t, "once", "-config", file)
	if r.code != exitFatal || !strings.Contains(r.stdout+r.stderr, filepath.Join(dir, "acme.db")) ||
		!strings.Contains(r.stdout+r.stderr, "in use by another") {
		t.Errorf("exit %d, output %q %q; want 3 naming the state file", r.code, r.stdout, r.stderr)
	}
}

func TestOnce_BadConfigExits2ContactingNothing(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 3, sandbox.Options{})
	tests := []struct {
		name, extra, want string
	}{
		{"unknown key", "sync:\n  concurency: 4\n", `acme.yaml:15: sync.concurency: unknown key (did you mean "sync.concurrency"?)`},
		{"unset variable", "sync:\n  max_active_age: ${SYNCWORKER_TEST_UNSET}\n", "acme.yaml:15: sync.max_active_age: environment variable SYNCWORKER_TEST_UNSET is not set"},
		{"bad cron", "", "schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeConfig(t, dir, "acme", addr, tt.extra)
			if tt.name == "bad cron" {
				b, _ := os.ReadFile(file)
				os.WriteFile(file, bytes.Replace(b, []byte(`"* * * * *"`), []byte(`"61 * * * *"`), 1), 0o600)
			}
			sb.ResetStats()
			r := run(t, "once", "-config", file)
			if r.code != exitConfig || !strings.Contains(fileError(t, r.stdout, file), tt.want) || !strings.Contains(r.stderr, "level=ERROR") {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, %q and an error logged", r.code, r.stdout, r.stderr, tt.want)
			}
			if n := len(sb.Requests()); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "acme.db")); err == nil {
				t.Error("a state file was created")
			}
		})
	}
}

func TestOnce_OneTenantFailingDoesNotStopAnother(t *testing.T) {
	t.Parallel()
	good, goodAddr := newSandbox(t, 10, sandbox.Options{})
	_, badAddr := newSandbox(t, 10, sandbox.Options{ChatToken: sandboxChatToken, Login: sandboxLogin, Password: "another-password"})
	dir := t.TempDir()
	unlimited(t, writeConfig(t, dir, "good", goodAddr, ""))
	unlimited(t, writeConfig(t, dir, "bad", badAddr, ""))
	r := run(t, "once", "-config", dir)
	if r.code != exitFatal {
		t.Errorf("exit %d, want 3 for the tenant whose login is refused", r.code)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout %q, want a summary line per tenant", r.stdout)
	}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "tenant=good "):
			if strings.Contains(l, "written=0") || strings.Contains(l, "error=") {
				t.Errorf("good tenant: %s", l)
			}
		case strings.HasPrefix(l, "tenant=bad "):
			if !strings.Contains(l, "error=") {
				t.Errorf("bad tenant: %s", l)
			}
		}
	}
	if good.Count(sandbox.RoutePatchCard) == 0 {
		t.Error("the good tenant's cards were not written")
	}
	if strings.Contains(r.stdout+r.stderr, "another-password") || strings.Contains(r.stdout+r.stderr, sandboxPassword) {
		t.Error("a password reached the output")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 0, sandbox.Options{})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	if r := run(t, "check", "-config", file); r.code != exitOK || r.stdout != "tenant=acme ok\n" {
		t.Errorf("check against a fitting sandbox: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	_, addr = newSandbox(t, 0, sandbox.Options{
		Attributes: sandbox.Attributes{FirstReplyWait: sandbox.Omit},
		Active:     sandbox.StaticValue{Value: "Yes"},
		Inactive:   sandbox.StaticValue{Value: "Closed", Code: "closed"},
		Folder:     "chat_archive",
	})
	file = writeConfig(t, t.TempDir(), "acme", addr, "")
	r := run(t, "check", "-config", file)
	if r.code != exitPartial {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{`esm.attributes.first_reply_wait: template chat_session has no attribute "first_reply_wait"`,
		`esm.active_values.active: value "Yes" has no code in ESM (null), not "yes"`,
		`esm.active_values.inactive: menu "is_chat_active" has no value "No"`,
		`esm.folder: template chat_session does not allow folder "chat_sessions" (it allows chat_archive)`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestCheck_DocumentShapes: a template in shapes Efecte's document allows
// (menu entries without a code or whose value is an object, date-times of
// type date, attributes of types the worker does not write) fits.
func TestCheck_DocumentShapes(t *testing.T) {
	sb, _ := newSandbox(t, 0, sandbox.Options{})
	attr := func(typ string, multi bool, extra string) string {
		return fmt.Sprintf(`{"name":"x","type":%q,"multiValue":%v%s}`, typ, multi, extra)
	}
	template := `{"name":"Chat session","code":"chat_session","allowedFolders":[{"folderName":"Old","folderCode":"old"},` +
		`{"folderName":"Chat sessions","folderCode":"chat_sessions"}],"attributes":{` +
		`"chat_session_id":` + attr("string", false, "") + `,"chat_log":` + attr("string", false, "") +
		`,"message_count":` + attr("number", false, "") + `,"first_reply_wait":` + attr("number", false, "") +
		`,"start_time":` + attr("date", false, "") + `,"end_time":` + attr("date", false, "") +
		`,"members":` + attr("reference", true, `,"target":["person"]`) + `,"support_person":` + attr("reference", false, "") +
		`,"customer":` + attr("reference", false, "") + `,"notes":` + attr("worklog", false, "") +
		`,"attachment":` + attr("external-reference", false, `,"file":true`) +
		`,"is_chat_active":` + attr("static-value", false, `,"values":[{"code":"yes","value":"Yes"},{"code":"no","value":"No"},`+
		`{"value":"Unknown"},{"code":"x","value":{"fi":"Ehkä"}}]`) + `}}`
	mux := http.NewServeMux()
	mux.Handle("/", sb)
	mux.HandleFunc("GET "+sandbox.ESMPrefix+"/dc/chat_session", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, template)
	})
	srv := httptest.NewServer(esmspec.Wrap(t, mux))
	t.Cleanup(srv.Close)
	file := writeConfig(t, t.TempDir(), "acme", strings.TrimPrefix(srv.URL, "http://"), "")
	if r := run(t, "check", "-config", file); r.code != exitOK || r.stdout != "tenant=acme ok\n" {
		t.Errorf("check: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestCheck_LoginRefused(t *testing.T) {
	t.Parallel()
	_, addr := newSandbox(t, 0, sandbox.Options{ChatToken: sandboxChatToken, Login: sandboxLogin, Password: "other"})
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	r := run(t, "check", "-config", file)
	if r.code != exitFatal || !strings.Contains(r.stdout, "ESM:") {
		t.Errorf("exit %d, %q; want 3 and an ESM problem", r.code, r.stdout)
	}
}

func TestStatus_ShowsFailingSession(t *testing.T) {
	t.Parallel()
	sb, addr := newSandbox(t, 8, sandbox.Options{})
	var gone string
	for _, c := range sb.SessionCards() {
		if c.Text("is_chat_active") == "Yes" {
			gone = c.Text("chat_session_id")
			break
		}
	}
	sb.DeleteSession(gone)
	file := writeConfig(t, t.TempDir(), "acme", addr, "")
	unlimited(t, file)
	if r := run(t, "once", "-config", file); r.code != exitPartial || !strings.Contains(r.stdout, "failed=1") {
		t.Fatalf("once: exit %d, %q; want 1 with one failed session", r.code, r.stdout)
	}
	r := run(t, "status", "-config", file)
	if r.code != exitOK {
		t.Fatalf("status: exit %d %s", r.code, r.stderr)
	}
	for _, want := range []string{"failing=1", "session=" + gone, "failures=1", "not found", "recent runs:", "failed=1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, sandboxPassword) || strings.Contains(r.stdout, sandboxChatToken) {
		t.Error("status shows a secret")
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	r := run(t, "demo")
	if r.code != exitOK {
		t.Fatalf("demo exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"tenant=demo sessions=5 written=5", "SESSION", "ws-demo-3  No", "Bob Builder", "45 s", "  |   Which office are you in?"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	if r := run(t, "backfill", "-config", "x.yaml", "-since", "yesterday"); r.code != exitConfig {
		t.Errorf("bad -since: exit %d", r.code)
	}
}

// TestRun_ScheduledPassesNeverOverlapAndStopFinishesWrites runs `run` on an
// every-second schedule against a slow sandbox, then stops it in the middle
// of a pass.
func TestRun_ScheduledPassesNeverOverlapAndStopFinishesWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	t.Parallel()
	// 8 sessions under the default ESM ceiling of 10 requests/s make a
	// pass of about 2.5 s: longer than the schedule's second, which is
	// all that overlapping needs (checked below).
	sb, addr := newSandbox(t, 8, sandbox.Options{})
	sb.SetFaults(sandbox.Faults{Chat: sandbox.Fault{Latency: 40 * time.Millisecond}, ESM: sandbox.Fault{Latency: 40 * time.Millisecond}})
	dir := t.TempDir()
	file := writeConfig(t, dir, "acme", addr, "sync:\n  concurrency: 2\n")
	b, _ := os.ReadFile(file)
	os.WriteFile(file, bytes.Replace(b, []byte(`"* * * * *"`), []byte(`"* * * * * *"`), 1), 0o600)

	stop := make(chan struct{})
	var out, errs lockedBuffer
	done := make(chan int)
	go func() {
		p := &Program{Stdout: &out, Stderr: &errs}
		done <- p.Run(context.Background(), stop, []string{"run", "-config", file, "-stop-timeout", "20s"})
	}()
	// Wait for two passes to end and a third to start, then stop.
	deadline := time.After(60 * time.Second)
	for strings.Count(out.String(), "tenant=acme") < 2 || !strings.Contains(out.String(), "written=0") {
		select {
		case <-deadline:
			t.Fatalf("passes did not happen:\n%s\n%s", out.String(), errs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Start a change so that the next pass has writes to do, then stop
	// once it is under way.
	patches := sb.Count(sandbox.RoutePatchCard)
	appendToAll(t, sb)
	waitUntil(t, "a write of the next pass", func() bool { return sb.Count(sandbox.RoutePatchCard) > patches })
	close(stop)
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("run exit %d after stop\n%s", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
	s, err := state.Open(filepath.Join(dir, "acme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, _ := s.Runs(context.Background(), 100)
	for i := 0; i+1 < len(runs); i++ {
		newer, older := runs[i], runs[i+1]
		if older.Finished.IsZero() || newer.Started.Before(older.Finished) {
			t.Errorf("passes overlap or one never finished: %+v then %+v", older, newer)
		}
	}
	if first := runs[len(runs)-1]; first.Finished.Sub(first.Started) <= time.Second {
		t.Errorf("the first pass took %v, no longer than the schedule's second: no tick came during it",
			first.Finished.Sub(first.Started))
	}
	if runs[0].Finished.IsZero() {
		t.Errorf("the pass running at stop did not finish: %+v", runs[0])
	}
	// The start-up says when the first scheduled pass comes and in which
	// zone; a tick that came during a pass is logged as skipped.
	for _, want := range []string{`msg=scheduled tenant=acme schedule="* * * * * *" zone="Local (`, "next_pass=",
		`level=WARN msg="tick skipped: the tenant's previous pass is still running" tenant=acme`} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("log lacks %q:\n%.3000s", want, errs.String())
		}
	}
	if res, _ := s.IntegrityCheck(context.Background()); res != "ok" {
		t.Errorf("integrity_check: %s", res)
	}
}
