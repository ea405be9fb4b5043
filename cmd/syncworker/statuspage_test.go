package main

import (
	"context"
	"flag"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// docsScreenshot makes TestRun_StatusPageInChromium also write the README's
// picture of the status page: go test ./cmd/syncworker -run StatusPage -docs-screenshot
var docsScreenshot = flag.Bool("docs-screenshot", false, "also write the status page screenshot to docs/status-page.png")

// artifactsEnv names the directory the browser tests keep their
// screenshots in; unset, testdata/artifacts (ignored by git).
const artifactsEnv = "SYNCWORKER_TEST_ARTIFACTS"

// chromium finds a Chromium to drive: $SYNCWORKER_CHROMIUM, else the first
// of the usual names on $PATH. Without one the test is skipped, except in
// CI (CI=true), where .ci/run installs Debian's chromium and a missing
// browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SYNCWORKER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for $SYNCWORKER_CHROMIUM, chromium, chromium-browser, google-chrome, headless-shell); " +
		"install it (Debian: apt-get install chromium) to run the status page's browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium for the test and returns its tab and
// a func that closes it. Scripts are off: the page must read right without
// JavaScript.
func browser(t *testing.T, exe string) (context.Context, func()) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 30*time.Second)
	closeBrowser := func() { cancelTime(); cancelTab(); cancelAlloc() }
	t.Cleanup(closeBrowser)
	noScripts := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	})
	if err := chromedp.Do(ctx, noScripts); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	return ctx, closeBrowser
}

// TestRun_StatusPageInChromium runs three tenants against sandboxes with
// faults (a session the platform lost, an ESM refusing every write, an ESM
// refusing the password), loads the status page of run -listen in a real
// headless Chromium, and checks what a person sees there. The screenshot
// is kept as a test artefact.
func TestRun_StatusPageInChromium(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	dir := t.TempDir()

	acme, acmeAddr := newSandbox(t, 8, sandbox.Options{})
	acmeActive := activeSessions(acme)
	lost := acmeActive[0]
	// The first pass closes the cards of the sessions that have ended.
	acmeEnded := 0
	for _, id := range acmeActive {
		if s, _, _ := acme.Session(id); s.Status == aggregate.StatusEnded {
			acmeEnded++
		}
	}
	acme.DeleteSession(lost)
	unlimited(t, writeConfig(t, dir, "acme", acmeAddr, ""))

	globex, globexAddr := newSandbox(t, 6, sandbox.Options{})
	globexActive := activeSessions(globex)
	globex.SetFaults(sandbox.Faults{ESM: sandbox.Fault{ServerErrorShare: 1, Routes: []string{sandbox.RoutePatchCard}}})
	unlimited(t, writeConfig(t, dir, "globex", globexAddr, ""))

	_, initechAddr := newSandbox(t, 2, sandbox.Options{})
	initech := writeConfig(t, dir, "initech", initechAddr, "")
	wrongPassword(t, initech)

	addr, out, stop := listeningRunWith(t, &Program{retryWait: quickRetry}, "-config", dir)
	defer stop()
	for _, name := range []string{"acme", "globex", "initech"} {
		waitFor(t, 20*time.Second, "the first pass of "+name, func() bool { return strings.Contains(out.String(), "tenant="+name+" ") })
	}

	// Closed before the worker stops: a connection Chromium opened ahead
	// and never used would hold up the listener's shutdown for 5 s.
	ctx, closeBrowser := browser(t, exe)
	defer closeBrowser()
	var (
		mu       sync.Mutex
		requests []string
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, r.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	page := "http://" + addr + "/"
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#tenant-initech"))); err != nil {
		t.Fatalf("load %s: %v", page, err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	screenshot(t, ctx)

	if got := text("h1"); got != "syncworker" {
		t.Errorf("heading %q", got)
	}
	for _, c := range []struct {
		tenant                           string
		tracked, active, failing, result string
		errorWant                        string
	}{
		{"acme", strconv.Itoa(len(acmeActive)), strconv.Itoa(len(acmeActive) - acmeEnded), "1", "partial", "not found"},
		// No write went through: every session is still active.
		{"globex", strconv.Itoa(len(globexActive)), strconv.Itoa(len(globexActive)), strconv.Itoa(len(globexActive)), "partial", "injected fault"},
	} {
		sec := "#tenant-" + c.tenant
		if got := text(sec + " h2"); got != c.tenant {
			t.Errorf("%s: heading %q", c.tenant, got)
		}
		if got := text(sec + " td.tracked"); got != c.tracked {
			t.Errorf("%s: tracked %s, want %s", c.tenant, got, c.tracked)
		}
		if got := text(sec + " td.active"); got != c.active {
			t.Errorf("%s: active %s, want %s", c.tenant, got, c.active)
		}
		if got := text(sec + " td.failing"); got != c.failing {
			t.Errorf("%s: failing %s, want %s", c.tenant, got, c.failing)
		}
		if got := text(sec + " table.failing-sessions"); !strings.Contains(got, c.errorWant) {
			t.Errorf("%s: failing sessions lack %q:\n%s", c.tenant, c.errorWant, got)
		}
		if got := text(sec + " table.runs tbody tr .result"); got != c.result {
			t.Errorf("%s: last pass %q, want %q", c.tenant, got, c.result)
		}
		if got := text(sec + " dd.last-ok"); !strings.HasSuffix(got, "ago)") {
			t.Errorf("%s: last successful pass %q", c.tenant, got)
		}
	}
	// The session the platform lost backs off: its row names its next
	// attempt; the deferred ones are tried at the next pass.
	if got := text("#tenant-acme table.failing-sessions tbody tr"); !strings.Contains(got, lost) || !strings.Contains(got, "Z") {
		t.Errorf("acme's lost session row: %q", got)
	}
	if got := text("#tenant-globex table.failing-sessions tbody tr"); !strings.Contains(got, "next pass") {
		t.Errorf("globex's deferred session row: %q", got)
	}
	if got := text("#tenant-initech p.login"); !strings.Contains(got, "ESM refused the login 1 time(s)") {
		t.Errorf("initech: %q", got)
	}
	if got := text("#not-ready"); !strings.Contains(got, "tenant initech") || strings.Contains(got, "tenant acme") {
		t.Errorf("not-ready banner: %q", got)
	}
	if got := text("#overview"); !strings.Contains(got, "acme") || !strings.Contains(got, "globex") || !strings.Contains(got, "initech") {
		t.Errorf("overview: %q", got)
	}
	refresh, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`meta[http-equiv="refresh"]`), "content"))
	if err != nil || !refresh.Exists || refresh.Value == "" || refresh.Value == "0" {
		t.Errorf("the page does not reload itself: %+v %v", refresh, err)
	}
	body := text("body")
	for _, secret := range []string{sandboxPassword, sandboxChatToken, "wrong-password"} {
		if strings.Contains(body, secret) {
			t.Errorf("the page shows a secret (%q)", secret)
		}
	}
	// No external assets: everything the page loaded came from the worker.
	mu.Lock()
	defer mu.Unlock()
	for _, r := range requests {
		if u, err := url.Parse(r); err != nil || u.Host != addr {
			t.Errorf("the page loaded %s, not from %s", r, addr)
		}
	}
	if len(requests) < 2 {
		t.Errorf("requests %v: want the page and its stylesheet", requests)
	}
}

// screenshot saves the whole page as a PNG artefact, and as the README's
// picture with -docs-screenshot.
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv(artifactsEnv)
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "status-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the status page: %s (%d bytes)", path, len(png))
	if *docsScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "status-page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// activeSessions are the session ids on the sandbox's active cards.
func activeSessions(sb *sandbox.Server) []string {
	var ids []string
	for _, c := range sb.SessionCards() {
		if c.Text("is_chat_active") == "Yes" {
			ids = append(ids, c.Text("chat_session_id"))
		}
	}
	return ids
}
