package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/syncworker/syncworker/internal/config"
)

// The deployment files (deploy/, Dockerfile) are tested against the
// program and against each other, so that a renamed flag, a moved path or
// a new Go version breaks the build here instead of a deployment.

const repoRoot = "../.."

// image is what the manifests may rely on from the Dockerfile's final
// stage.
type image struct {
	goVersion  string   // ARG GO_VERSION
	entrypoint []string // ENTRYPOINT
	workdir    string   // WORKDIR: the state volume
	volumes    []string // VOLUME
	uid        int      // USER
	copiedTo   []string // destinations of COPY --from
	buildPkg   string   // the package go build builds
}

// readDockerfile reads the instructions of the Dockerfile's last stage
// (and the ARG and go build before it).
func readDockerfile(t *testing.T) image {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		img   image
		stage int
		lines []string
		cont  string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cont += s + " "
			continue
		}
		lines, cont = append(lines, cont+l), ""
	}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "ARG":
			if v, ok := strings.CutPrefix(rest, "GO_VERSION="); ok {
				img.goVersion = v
			}
		case "FROM":
			stage++
			img.workdir, img.volumes, img.entrypoint, img.uid, img.copiedTo = "", nil, nil, 0, nil
		case "RUN":
			if m := regexp.MustCompile(`go build .* (\./\S+)`).FindStringSubmatch(rest); m != nil {
				img.buildPkg = m[1]
			}
		case "WORKDIR":
			img.workdir = rest
		case "VOLUME":
			if err := json.Unmarshal([]byte(rest), &img.volumes); err != nil {
				img.volumes = strings.Fields(rest)
			}
		case "USER":
			uid, _, _ := strings.Cut(rest, ":")
			if img.uid, err = strconv.Atoi(uid); err != nil {
				t.Errorf("Dockerfile: USER %s is not numeric: runAsNonRoot needs a numeric user", rest)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &img.entrypoint); err != nil {
				t.Errorf("Dockerfile: ENTRYPOINT %s is not in exec form: %v", rest, err)
			}
		case "COPY":
			if strings.Contains(rest, "--from=") {
				f := strings.Fields(rest)
				img.copiedTo = append(img.copiedTo, f[len(f)-1])
			}
		}
	}
	if stage < 2 {
		t.Errorf("Dockerfile has %d stages, want a build and a runtime stage", stage)
	}
	return img
}

// goModVersion is the go directive of go.mod.
func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

func TestDeploy_Dockerfile(t *testing.T) {
	t.Parallel()
	img := readDockerfile(t)
	if want := goModVersion(t); img.goVersion != want {
		t.Errorf("Dockerfile builds with Go %q, go.mod requires %q", img.goVersion, want)
	}
	if img.buildPkg != "./cmd/syncworker" {
		t.Errorf("Dockerfile builds %q, want ./cmd/syncworker", img.buildPkg)
	}
	if len(img.entrypoint) != 1 || !slices.Contains(img.copiedTo, img.entrypoint[0]) {
		t.Errorf("ENTRYPOINT %v is not the binary copied from the build stage (%v)", img.entrypoint, img.copiedTo)
	}
	if img.workdir == "" || !slices.Contains(img.volumes, img.workdir) {
		t.Errorf("WORKDIR %q is not a VOLUME %v: the default state path would not be on the volume", img.workdir, img.volumes)
	}
	if img.uid == 0 {
		t.Error("the image runs as root")
	}
}

// manifest is one YAML document of deploy/.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) String() string {
	return fmt.Sprintf("%s: %v %v", m.file, m.doc["kind"], dig(m.doc, "metadata", "name"))
}

// readManifests decodes every document of every YAML file under deploy/.
func readManifests(t *testing.T) []manifest {
	t.Helper()
	var out []manifest
	err := filepath.WalkDir(filepath.Join(repoRoot, "deploy"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if doc != nil {
				out = append(out, manifest{file: filepath.Base(p), doc: doc})
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no manifests under deploy/")
	}
	return out
}

// dig follows keys through nested maps; nil when one is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func list(v any) []any           { l, _ := v.([]any); return l }
func str(v any) string           { s, _ := v.(string); return s }
func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }

// podSpec is the pod template of a workload, nil for other kinds.
func podSpec(doc map[string]any) map[string]any {
	switch doc["kind"] {
	case "CronJob":
		return mapOf(dig(doc, "spec", "jobTemplate", "spec", "template", "spec"))
	case "Deployment", "StatefulSet", "DaemonSet", "Job":
		return mapOf(dig(doc, "spec", "template", "spec"))
	}
	return nil
}

// acceptsArgs reports whether the program's flag parsing takes args: a
// trailing -h stops it after every flag was parsed, with exit 0 only when
// each one is known and its value of the right type. The log flags, whose
// values are checked after parsing, are checked here too.
func acceptsArgs(args []string) (bool, string) {
	r := runProgram(&Program{}, append(slices.Clone(args), "-h"))
	if r.code != exitOK {
		return false, r.stderr
	}
	format, level := cmp.Or(flagValue(args, "log-format"), "text"), cmp.Or(flagValue(args, "log-level"), "info")
	if _, err := newLogger(io.Discard, format, level); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// flagValue is the value of -name in args ("" when absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = "-" + strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "-"+name+"="); ok {
			return v
		}
		if a == "-"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func TestDeploy_Manifests(t *testing.T) {
	t.Parallel()
	img := readDockerfile(t)
	ms := readManifests(t)
	claims := map[string]bool{}
	tenants := map[string]string{}
	workloads := 0
	for _, m := range ms {
		switch m.doc["kind"] {
		case "PersistentVolumeClaim":
			claims[str(dig(m.doc, "metadata", "name"))] = true
		case "ConfigMap":
			checkTenantFiles(t, m, tenants)
		}
	}
	for _, m := range ms {
		spec := podSpec(m.doc)
		if spec == nil {
			continue
		}
		workloads++
		t.Run(m.String(), func(t *testing.T) {
			checkPod(t, m, spec, img, claims)
		})
	}
	if workloads < 3 {
		t.Errorf("%d workloads under deploy/, want the CronJob, the Deployment and the shards", workloads)
	}
}

// checkTenantFiles parses the tenant files a ConfigMap holds with the
// config loader, and checks that no tenant is in two of them: two shards
// with one tenant would both write its cards.
func checkTenantFiles(t *testing.T, m manifest, tenants map[string]string) {
	t.Helper()
	env := func(string) (string, bool) { return "set", true }
	for key, v := range mapOf(m.doc["data"]) {
		if !strings.HasSuffix(key, ".yaml") {
			continue
		}
		cfg, err := config.Parse(strings.NewReader(str(v)), key, env)
		if err != nil {
			t.Errorf("%v: %v", m, err)
			continue
		}
		if other, ok := tenants[cfg.Tenant]; ok {
			t.Errorf("tenant %s is in %v and in %s", cfg.Tenant, m, other)
		}
		tenants[cfg.Tenant] = m.String()
	}
}

// checkPod checks each syncworker container of a pod template against the
// program and the image.
func checkPod(t *testing.T, m manifest, spec map[string]any, img image, claims map[string]bool) {
	volumes := map[string]map[string]any{}
	for _, v := range list(spec["volumes"]) {
		volumes[str(dig(v, "name"))] = mapOf(v)
	}
	for _, c := range list(dig(m.doc, "spec", "volumeClaimTemplates")) {
		volumes[str(dig(c, "metadata", "name"))] = map[string]any{"persistentVolumeClaim": map[string]any{"template": true}}
	}
	for name, v := range volumes {
		if claim := str(dig(v, "persistentVolumeClaim", "claimName")); claim != "" && !claims[claim] {
			t.Errorf("volume %s claims %s, which no manifest defines", name, claim)
		}
	}
	if uid, ok := dig(spec, "securityContext", "runAsUser").(int); ok && uid != img.uid {
		t.Errorf("runAsUser %d, the image's user is %d", uid, img.uid)
	}
	found := false
	for _, c := range list(spec["containers"]) {
		if !strings.Contains(str(dig(c, "image")), "syncworker") {
			continue
		}
		found = true
		checkContainer(t, m, mapOf(c), volumes, img)
	}
	if !found {
		t.Error("no syncworker container")
	}
}

func checkContainer(t *testing.T, m manifest, c map[string]any, volumes map[string]map[string]any, img image) {
	if cmd := list(c["command"]); len(cmd) > 0 && (len(cmd) != 1 || str(cmd[0]) != img.entrypoint[0]) {
		t.Errorf("command %v overrides the image's entrypoint %v", cmd, img.entrypoint)
	}
	if wd := str(c["workingDir"]); wd != "" && wd != img.workdir {
		t.Errorf("workingDir %s, the image's is %s", wd, img.workdir)
	}
	mounts := map[string]map[string]any{} // by mountPath
	for _, vm := range list(c["volumeMounts"]) {
		name, mp := str(dig(vm, "name")), str(dig(vm, "mountPath"))
		if volumes[name] == nil {
			t.Errorf("mount %s names no volume %s", mp, name)
		}
		mounts[mp] = mapOf(vm)
	}
	state := mounts[img.workdir]
	if state == nil || state["readOnly"] == true || dig(volumes[str(state["name"])], "persistentVolumeClaim") == nil {
		t.Errorf("no writable persistent volume at the image's state directory %s", img.workdir)
	}
	writable := func(p string) bool {
		for mp, vm := range mounts {
			if under(p, mp) && vm["readOnly"] != true {
				return true
			}
		}
		return false
	}
	mounted := func(p string) bool {
		for mp := range mounts {
			if under(p, mp) {
				return true
			}
		}
		return false
	}
	var args []string
	for _, a := range list(c["args"]) {
		args = append(args, str(a))
	}
	for _, args := range expansions(t, m, c, args) {
		if ok, stderr := acceptsArgs(args); !ok {
			t.Errorf("syncworker does not take the args %q:\n%s", args, stderr)
		}
		if cfg := flagValue(args, "config"); cfg == "" || !mounted(cfg) {
			t.Errorf("-config %q is not on a mounted volume", cfg)
		}
		if mf := flagValue(args, "metrics-file"); mf != "" && !writable(path.Dir(mf)) {
			t.Errorf("-metrics-file %s is not on a writable volume", mf)
		}
	}
	switch cmd := args[0]; {
	case m.doc["kind"] == "CronJob":
		if cmd != "once" || flagValue(args, "metrics-file") == "" {
			t.Errorf("a CronJob runs %q; want once with -metrics-file", args)
		}
		if p := dig(m.doc, "spec", "concurrencyPolicy"); p != "Forbid" {
			t.Errorf("concurrencyPolicy %v: passes of one state would overlap", p)
		}
	case cmd == "run":
		checkProbes(t, c, flagValue(args, "listen"))
	}
}

// expansions are args with the container's $(VAR) references expanded,
// once per value a variable takes: a StatefulSet's pod index takes each of
// 0..replicas-1.
func expansions(t *testing.T, m manifest, c map[string]any, args []string) [][]string {
	vals := map[string][]string{}
	for _, e := range list(c["env"]) {
		name := str(dig(e, "name"))
		switch {
		case dig(e, "value") != nil:
			vals[name] = []string{str(dig(e, "value"))}
		case str(dig(e, "valueFrom", "fieldRef", "fieldPath")) == "metadata.labels['apps.kubernetes.io/pod-index']":
			n, _ := dig(m.doc, "spec", "replicas").(int)
			for i := range n {
				vals[name] = append(vals[name], strconv.Itoa(i))
			}
		default:
			vals[name] = []string{"x"}
		}
	}
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	out := [][]string{args}
	for _, a := range args {
		for _, r := range ref.FindAllStringSubmatch(a, -1) {
			vs, ok := vals[r[1]]
			if !ok || len(vs) == 0 {
				t.Errorf("args refer to $(%s), which the container's env does not set", r[1])
				continue
			}
			var next [][]string
			for _, o := range out {
				for _, v := range vs {
					e := slices.Clone(o)
					for i := range e {
						e[i] = strings.ReplaceAll(e[i], r[0], v)
					}
					next = append(next, e)
				}
			}
			out = next
		}
	}
	return out
}

// checkProbes checks that a run container listens where its port and
// probes say, with liveness on /healthz and readiness on /readyz.
func checkProbes(t *testing.T, c map[string]any, listen string) {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Errorf("run without a valid -listen (%q): no probes, no metrics", listen)
		return
	}
	ports := map[string]string{} // name and number -> number
	for _, p := range list(c["ports"]) {
		n := strconv.Itoa(dig(p, "containerPort").(int))
		ports[n] = n
		if name := str(dig(p, "name")); name != "" {
			ports[name] = n
		}
	}
	if ports[port] != port {
		t.Errorf("-listen %s: no containerPort %s", listen, port)
	}
	for probe, want := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		get := dig(c, probe, "httpGet")
		if str(dig(get, "path")) != want {
			t.Errorf("%s path %v, want %s", probe, dig(get, "path"), want)
		}
		var p string
		switch v := dig(get, "port").(type) {
		case int:
			p = strconv.Itoa(v)
		case string:
			p = v
		}
		if ports[p] != port {
			t.Errorf("%s port %v is not the -listen port %s", probe, dig(get, "port"), port)
		}
	}
}

// TestDeploy_Systemd checks the units' command lines against the program.
func TestDeploy_Systemd(t *testing.T) {
	t.Parallel()
	img := readDockerfile(t)
	units, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "systemd", "*"))
	if err != nil || len(units) == 0 {
		t.Fatalf("no systemd units: %v", err)
	}
	services := 0
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string][]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
				keys[k] = append(keys[k], v)
			}
		}
		switch filepath.Ext(u) {
		case ".timer":
			svc := strings.TrimSuffix(u, ".timer") + ".service"
			if unit := keys["Unit"]; len(unit) > 0 {
				svc = filepath.Join(filepath.Dir(u), unit[0])
			}
			if _, err := os.Stat(svc); err != nil {
				t.Errorf("%s starts %s, which does not exist", filepath.Base(u), filepath.Base(svc))
			}
		case ".service":
			services++
			checkUnit(t, filepath.Base(u), keys, img)
		}
	}
	if services < 2 {
		t.Errorf("%d services, want the timer's and the long-running one", services)
	}
}

func checkUnit(t *testing.T, name string, keys map[string][]string, img image) {
	t.Helper()
	if len(keys["ExecStart"]) != 1 {
		t.Errorf("%s: %d ExecStart lines", name, len(keys["ExecStart"]))
		return
	}
	f := strings.Fields(keys["ExecStart"][0])
	if f[0] != img.entrypoint[0] {
		t.Errorf("%s runs %s; the image and the README install to %s", name, f[0], img.entrypoint[0])
	}
	if ok, stderr := acceptsArgs(f[1:]); !ok {
		t.Errorf("%s: syncworker does not take %q:\n%s", name, f[1:], stderr)
	}
	rw := strings.Fields(strings.Join(keys["ReadWritePaths"], " "))
	if mf := flagValue(f[1:], "metrics-file"); mf != "" && !slices.ContainsFunc(rw, func(d string) bool { return under(path.Dir(mf), d) }) {
		t.Errorf("%s: -metrics-file %s is outside ReadWritePaths %v", name, mf, rw)
	}
	if wd := keys["WorkingDirectory"]; len(wd) != 1 || !slices.Contains(rw, wd[0]) {
		t.Errorf("%s: WorkingDirectory %v, where the state goes, is not writable (%v)", name, wd, rw)
	}
	switch f[1] {
	case "once":
		if flagValue(f[1:], "metrics-file") == "" {
			t.Errorf("%s: once without -metrics-file", name)
		}
	case "run":
		if host, _, err := net.SplitHostPort(flagValue(f[1:], "listen")); err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("%s: run should -listen on loopback, has %q", name, flagValue(f[1:], "listen"))
		}
	}
}
