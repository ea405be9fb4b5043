package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// setTestEnv puts the test secrets into the process environment for Load.
func setTestEnv(t *testing.T) {
	t.Setenv("CHAT_TOKEN", chatToken)
	t.Setenv("ESM_LOGIN", "svc-syncworker")
	t.Setenv("ESM_PASSWORD", esmPassword)
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tenantFile returns minimal for another tenant.
func tenantFile(tenant string) string {
	return strings.Replace(minimal, "tenant: acme", "tenant: "+tenant, 1)
}

func loadProblems(t *testing.T, paths ...string) []Problem {
	t.Helper()
	configs, err := LoadAll(paths)
	if err == nil {
		t.Fatalf("LoadAll succeeded with %d configs", len(configs))
	}
	assertNoSecrets(t, err.Error())
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %T is not a *ValidationError: %v", err, err)
	}
	return verr.Problems
}

func TestLoad_File(t *testing.T) {
	setTestEnv(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "acme.yaml"), minimal)
	configs, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) != 1 || configs[0].Tenant != "acme" || configs[0].File != path {
		t.Fatalf("got %v", configs)
	}
	if string(configs[0].ESM.Password) != esmPassword {
		t.Error("password not taken from the environment")
	}
}

func TestLoad_Directory(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.yml"), tenantFile("charlie"))
	writeFile(t, filepath.Join(dir, "a.yaml"), tenantFile("alpha"))
	writeFile(t, filepath.Join(dir, "b.yaml"), tenantFile("bravo"))
	writeFile(t, filepath.Join(dir, "README.md"), "not a config")
	writeFile(t, filepath.Join(dir, ".hidden.yaml"), "garbage: [")
	writeFile(t, filepath.Join(dir, "sub.yaml", "x.yaml"), "garbage: [")
	configs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tenants []string
	for _, c := range configs {
		tenants = append(tenants, c.Tenant)
	}
	if got := strings.Join(tenants, ","); got != "alpha,bravo,charlie" {
		t.Errorf("tenants %s, want alpha,bravo,charlie", got)
	}
}

func TestLoad_Errors(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	writeFile(t, filepath.Join(bad, "a.yaml"), tenantFile("alpha")+"extra: 1\n")
	writeFile(t, filepath.Join(bad, "b.yaml"), tenantFile("Bravo"))
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"no paths", nil, []string{"no config file given"}},
		{"missing file", []string{filepath.Join(dir, "nope.yaml")},
			[]string{filepath.Join(dir, "nope.yaml") + ": no such file or directory"}},
		{"empty directory", []string{empty}, []string{empty + ": no *.yaml or *.yml files in directory"}},
		{"problems of every file", []string{bad}, []string{
			filepath.Join(bad, "a.yaml") + ":13: extra: unknown key",
			filepath.Join(bad, "b.yaml") + `:2: tenant: "Bravo": use only a-z, 0-9 and -`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := loadProblems(t, tt.paths...)
			got := (&ValidationError{problems}).Error()
			if got != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadAll_Duplicates(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.yaml"), minimal)
	b := writeFile(t, filepath.Join(dir, "other", "b.yaml"), minimal)
	c := writeFile(t, filepath.Join(dir, "c.yaml"), tenantFile("charlie")+"state_path: state/acme.db\n")
	d := writeFile(t, filepath.Join(dir, "d.yaml"), tenantFile("delta"))

	problems := loadProblems(t, a, b, c, d)
	want := []string{
		b + `:2: tenant: tenant "acme" is also configured in ` + a,
		c + `:13: state_path: state file state/acme.db is also used by ` + a + ` (tenant acme)`,
	}
	if got := (&ValidationError{problems}).Error(); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	t.Run("same file twice", func(t *testing.T) {
		problems := loadProblems(t, dir, a)
		findProblem(t, problems, "tenant")
	})
}

func TestLoadEach_KeepsGoodConfigsPastBadFiles(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "tenants", "a.yaml"), tenantFile("alpha"))
	bad := writeFile(t, filepath.Join(dir, "tenants", "b.yaml"), tenantFile("bravo")+"sync:\n  concurency: 4\n")
	also := writeFile(t, filepath.Join(dir, "tenants", "c.yaml"), tenantFile("charlie"))
	dup := writeFile(t, filepath.Join(dir, "dup.yaml"), tenantFile("alpha"))
	missing := filepath.Join(dir, "nope.yaml")

	configs, broken := LoadEach([]string{filepath.Join(dir, "tenants"), dup, missing})
	var tenants []string
	for _, c := range configs {
		tenants = append(tenants, c.Tenant)
	}
	if got := strings.Join(tenants, ","); got != "alpha,charlie" {
		t.Errorf("tenants %s, want alpha,charlie", got)
	}
	if configs[0].File != good || configs[1].File != also {
		t.Errorf("files %s, %s", configs[0].File, configs[1].File)
	}
	want := []struct{ file, err string }{
		{bad, bad + `:14: sync.concurency: unknown key (did you mean "sync.concurrency"?)`},
		{missing, missing + ": no such file or directory"},
		{dup, dup + `:2: tenant: tenant "alpha" is also configured in ` + good},
	}
	if len(broken) != len(want) {
		t.Fatalf("broken %v, want %d files", broken, len(want))
	}
	for i, w := range want {
		if broken[i].File != w.file || broken[i].Error() != w.err {
			t.Errorf("broken[%d] = %s: %q\nwant %s: %q", i, broken[i].File, broken[i].Error(), w.file, w.err)
		}
	}
	if _, err := LoadAll([]string{filepath.Join(dir, "tenants")}); err == nil {
		t.Error("LoadAll accepted a directory holding a bad file")
	}
}

func TestLoadEach_OneLinePerFile(t *testing.T) {
	setTestEnv(t)
	text := strings.Replace(tenantFile("Bad"), "template: chat_session", "template: \"\"", 1) + "extra: 1\n"
	file := writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), text)
	_, broken := LoadEach([]string{file})
	if len(broken) != 1 || len(broken[0].Problems) < 2 {
		t.Fatalf("broken = %v, want one file with several problems", broken)
	}
	if msg := broken[0].Error(); strings.Contains(msg, "\n") || strings.Count(msg, "; ") != len(broken[0].Problems)-1 {
		t.Errorf("error %q is not one line of problems joined by \"; \"", msg)
	}
}

func TestLoad_SecretFiles(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	t.Chdir(dir) // relative *_file names are relative to the working directory
	writeFile(t, filepath.Join(dir, "secrets", "chat"), chatToken+"\n")
	writeFile(t, filepath.Join(dir, "secrets", "esm"), esmPassword+"\r\n")
	text := strings.Replace(minimal, "token: ${CHAT_TOKEN}", "token_file: secrets/chat", 1)
	text = strings.Replace(text, "password: ${ESM_PASSWORD}", "password_file: ${PW_FILE}", 1)
	t.Setenv("PW_FILE", filepath.Join(dir, "secrets", "esm"))
	path := writeFile(t, filepath.Join(dir, "conf", "acme.yaml"), text)

	configs, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c := configs[0]
	if string(c.Chat.Token) != chatToken || string(c.ESM.Password) != esmPassword {
		t.Errorf("secrets not read from their files")
	}
	if len(c.LiteralSecrets) != 0 {
		t.Errorf("LiteralSecrets = %v, want none", c.LiteralSecrets)
	}
}

func TestLoad_FileProblems(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	secret := writeFile(t, filepath.Join(dir, "two-lines"), chatToken+"\nsecond "+esmPassword+"\n")
	empty := writeFile(t, filepath.Join(dir, "empty"), "\n")
	notPEM := writeFile(t, filepath.Join(dir, "ca.pem"), chatToken)
	tests := []struct {
		name, old, new string
		key, msg       string
	}{
		{"missing token file", "token: ${CHAT_TOKEN}", "token_file: " + filepath.Join(dir, "nope"),
			"chat.token_file", "no such file"},
		{"two-line token file", "token: ${CHAT_TOKEN}", "token_file: " + secret,
			"chat.token_file", "control characters"},
		{"empty password file", "password: ${ESM_PASSWORD}", "password_file: " + empty,
			"esm.password_file", "is empty"},
		{"CA file without PEM", "  token:", "  ca_file: " + notPEM + "\n  token:",
			"chat.ca_file", "no PEM certificate"},
		{"missing CA file", "  template:", "  ca_file: " + filepath.Join(dir, "nope.pem") + "\n  template:",
			"esm.ca_file", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(minimal, tt.old, tt.new, 1)
			path := writeFile(t, filepath.Join(t.TempDir(), "acme.yaml"), text)
			p := findProblem(t, loadProblems(t, path), tt.key)
			if !strings.Contains(p.Message, tt.msg) || p.Line == 0 || p.File != path {
				t.Errorf("problem %q, want a line and %q", p, tt.msg)
			}
		})
	}
}

func TestLoad_CAFile(t *testing.T) {
	setTestEnv(t)
	dir := t.TempDir()
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), selfSignedPEM(t))
	text := strings.Replace(minimal, "  token:", "  ca_file: "+ca+"\n  token:", 1)
	path := writeFile(t, filepath.Join(dir, "acme.yaml"), text)
	configs, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if configs[0].Chat.CAFile != ca {
		t.Errorf("CAFile = %q, want %q", configs[0].Chat.CAFile, ca)
	}
}

func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test CA"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestExampleConfig(t *testing.T) {
	f, err := os.Open("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := testEnv("ACME_CHAT_TOKEN", "example-token")
	c, err := Parse(f, "config.example.yaml", env)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	// The example documents the defaults: apart from the required keys it
	// must equal a file that sets only those.
	d := mustParse(t, `
tenant: acme
schedule: "*/5 * * * *"
chat:
  base_url: https://chat.example.com/api/v1
  token: example-token
esm:
  base_url: https://acme.efectecloud.com/rest-api/itsm/v1
  login: ${ESM_LOGIN}
  password: ${ESM_PASSWORD}
  template: chat_session
  folder: chat_sessions
`)
	c.File, c.lines, c.fromEnv, d.File, d.lines, d.fromEnv, d.LiteralSecrets = "", nil, nil, "", nil, nil, nil
	if c.String() != d.String() || c.LogValue().String() != d.LogValue().String() ||
		!reflect.DeepEqual(c.Chat, d.Chat) || c.ESM != d.ESM || c.Sync != d.Sync {
		t.Errorf("example differs from the defaults:\n%+v\n%+v", c, d)
	}
}

func TestLoad_ReadsPlatformSecretFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "acme.yaml")
	body := `tenant: acme
schedule: "*/5 * * * *"
chat:
  platform: genesys-cloud
  base_url: https://api.mypurecloud.ie
  client_id: abc
  client_secret_file: ` + secret + `
esm:
  base_url: https://acme.efectecloud.com/rest-api/itsm/v1
  login: svc
  password: pw
  template: chat_session
  folder: chat_sessions
`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgs, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cfgs[0].Chat.Genesys.ClientSecret); got != "s3cr3t" {
		t.Errorf("client secret read from its file = %q", got)
	}
}
