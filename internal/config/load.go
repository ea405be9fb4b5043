package config

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Size limits: a tenant file is a page of YAML; a secret or CA file is small.
const (
	maxConfigBytes = 1 << 20
	maxSecretBytes = 64 << 10
	maxCABytes     = 4 << 20
)

// Parse reads one tenant file from r. name is the file name used in
// messages and kept in Config.File; env looks up ${VAR} (os.LookupEnv in
// production). Parse does no other I/O: *_file secrets are read by
// ReadFiles. The config it returns is valid; any error is a
// *ValidationError listing every problem found.
func Parse(r io.Reader, name string, env func(string) (string, bool)) (*Config, error) {
	root, p := readYAML(r, name)
	if p != nil {
		return nil, &ValidationError{Problems: []Problem{*p}}
	}
	d := newDecoder(name, env)
	c := Default()
	c.File = name
	d.decodeStruct(root, reflect.ValueOf(c).Elem(), "")
	c.lines, c.fromEnv = d.lines, d.fromEnv
	for key := range d.literal {
		c.LiteralSecrets = append(c.LiteralSecrets, key)
	}
	sort.Strings(c.LiteralSecrets)
	if c.StatePath == "" && c.Tenant != "" {
		c.StatePath = DefaultStatePath(c.Tenant)
	}
	if problems := merge(d.problems, c.Validate()); len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	c.resolve()
	return c, nil
}

// merge adds the validation problems to the decoding problems, leaving out
// those about a key that already failed to decode.
func merge(decoding []Problem, err error) []Problem {
	var verr *ValidationError
	if !errors.As(err, &verr) {
		return decoding
	}
	failed := map[string]bool{}
	for _, p := range decoding {
		failed[p.Key] = true
	}
	for _, p := range verr.Problems {
		if !failed[p.Key] {
			decoding = append(decoding, p)
		}
	}
	return decoding
}

// resolve sets the fields derived from a valid config.
func (c *Config) resolve() {
	c.Schedule = strings.Join(strings.Fields(c.Schedule), " ")
	s, _ := parseSchedule(c.Schedule)
	c.ScheduleSeconds, c.ScheduleLocation, c.schedule = s.seconds, s.loc, s.cron
	c.Location, _ = time.LoadLocation(c.Timezone)
}

// readYAML reads the single YAML document of a tenant file and returns its
// root mapping.
func readYAML(r io.Reader, name string) (root *yaml.Node, p *Problem) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	switch {
	case err != nil:
		return nil, &Problem{File: name, Message: err.Error()}
	case len(data) > maxConfigBytes:
		return nil, &Problem{File: name, Message: fmt.Sprintf("larger than %d bytes", maxConfigBytes)}
	}
	defer func() {
		if r := recover(); r != nil {
			root, p = nil, &Problem{File: name, Message: "not valid YAML"}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &Problem{File: name, Message: "no settings in file"}
		}
		return nil, yamlProblem(name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		if err != nil {
			return nil, yamlProblem(name, err)
		}
		return nil, &Problem{File: name, Line: next.Line, Message: "more than one YAML document: one tenant per file"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Problem{File: name, Message: "no settings in file"}
	}
	root = unalias(doc.Content[0])
	switch {
	case root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null":
		return nil, &Problem{File: name, Message: "no settings in file"}
	case root.Kind != yaml.MappingNode:
		return nil, &Problem{File: name, Line: root.Line, Message: "want a mapping of keys, got " + kindName(root)}
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error into a Problem with its line.
func yamlProblem(name string, err error) *Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{File: name, Line: line, Message: "invalid YAML: " + m[2]}
	}
	return &Problem{File: name, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// ReadFiles reads the files a config refers to: the secrets of
// chat.token_file, esm.password_file and the chat platform's own *_file
// keys (chat.app_token_file, chat.client_secret_file; one trailing line break is
// dropped), and checks that each CA file holds a PEM certificate. Relative
// names are relative to the working directory. Load calls it after Parse.
func (c *Config) ReadFiles() error {
	v := &validator{c: c}
	if c.Chat.TokenFile != "" {
		c.Chat.Token = v.readSecret("chat.token_file", c.Chat.TokenFile)
	}
	if c.ESM.PasswordFile != "" {
		c.ESM.Password = v.readSecret("esm.password_file", c.ESM.PasswordFile)
	}
	c.Chat.readFiles(v) // the chat platform's *_file secrets
	v.checkCA("chat.ca_file", c.Chat.CAFile)
	v.checkCA("esm.ca_file", c.ESM.CAFile)
	return v.err()
}

func (v *validator) readSecret(key, file string) Secret {
	data, err := readFile(file, maxSecretBytes)
	if err != nil {
		v.add(key, "%v", err)
		return ""
	}
	if v.c.SecretFiles == nil {
		v.c.SecretFiles = map[string]string{}
	}
	v.c.SecretFiles[key] = file
	s := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	switch {
	case s == "":
		v.add(key, "file %s is empty", file)
	case hasControl(s):
		v.add(key, "file %s holds control characters (more than one line?)", file)
	default:
		return Secret(s)
	}
	return ""
}

func (v *validator) checkCA(key, file string) {
	if file == "" {
		return
	}
	data, err := readFile(file, maxCABytes)
	if err != nil {
		v.add(key, "%v", err)
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		v.add(key, "no PEM certificate in %s", file)
	}
}

// readFile reads at most limit bytes of a small file.
func readFile(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}

// Load reads the tenant configs at path: one file, or every *.yaml and
// *.yml in a directory (sorted by name, dot files skipped), one tenant
// each. ${VAR} comes from the process environment. Two configs with the
// same tenant or state file are an error. Any error is a
// *ValidationError listing the problems of every file.
func Load(path string) ([]*Config, error) {
	return LoadAll([]string{path})
}

// LoadAll is Load for several paths, as given by repeated -config flags:
// all or nothing.
func LoadAll(paths []string) ([]*Config, error) {
	configs, broken := LoadEach(paths)
	if len(broken) == 0 {
		return configs, nil
	}
	var problems []Problem
	for _, b := range broken {
		problems = append(problems, b.Problems...)
	}
	return nil, &ValidationError{Problems: problems}
}

// FileError is a config file, or a -config path, that gave no usable
// tenant, with every problem found in it.
type FileError struct {
	File     string
	Problems []Problem
}

// Error prints the problems on one line, each as "file:line: key: message".
func (e *FileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}

// LoadEach is LoadAll that keeps going past a bad file, so that one
// tenant's mistake does not stop the others: it returns the configs that
// loaded and, for each file or path that gave none, its problems, in the
// order the paths name them. Of two configs that share a tenant or a state
// file, the later one is the broken one.
func LoadEach(paths []string) ([]*Config, []*FileError) {
	if len(paths) == 0 {
		return nil, []*FileError{{Problems: []Problem{{Message: "no config file given"}}}}
	}
	var (
		configs []*Config
		broken  []*FileError
	)
	for _, path := range paths {
		files, err := configFiles(path)
		if err != nil {
			broken = append(broken, &FileError{File: path,
				Problems: []Problem{{File: path, Message: describeIOError(err)}}})
			continue
		}
		for _, file := range files {
			c, err := loadFile(file)
			if err != nil {
				broken = append(broken, &FileError{File: file, Problems: problemsOf(file, err)})
				continue
			}
			configs = append(configs, c)
		}
	}
	configs, dups := withoutDuplicates(configs)
	return configs, append(broken, dups...)
}

// configFiles lists the config files at path.
func configFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := filepath.Join(path, name)
		// Follow symlinks (Kubernetes mounts ConfigMaps that way) but skip directories.
		if info, err := os.Stat(file); err == nil && info.IsDir() {
			continue
		}
		files = append(files, file)
	}
	if len(files) == 0 {
		return nil, errors.New("no *.yaml or *.yml files in directory")
	}
	return files, nil // ReadDir sorts by name
}

func loadFile(file string) (*Config, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Parse(f, file, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if err := c.ReadFiles(); err != nil {
		return nil, err
	}
	return c, nil
}

func problemsOf(file string, err error) []Problem {
	var verr *ValidationError
	if errors.As(err, &verr) {
		return verr.Problems
	}
	return []Problem{{File: file, Message: describeIOError(err)}}
}

// describeIOError drops the path an *fs.PathError repeats.
func describeIOError(err error) string {
	var perr *fs.PathError
	if errors.As(err, &perr) {
		return perr.Err.Error()
	}
	return err.Error()
}

// withoutDuplicates splits off the configs that share a tenant or a state
// file with an earlier one: two workers would fight over one lock, or one
// tenant would be synced twice.
func withoutDuplicates(configs []*Config) (kept []*Config, broken []*FileError) {
	tenants := map[string]*Config{}
	states := map[string]*Config{}
	for _, c := range configs {
		if p, dup := duplicate(c, tenants, states); dup {
			broken = append(broken, &FileError{File: c.File, Problems: []Problem{p}})
			continue
		}
		tenants[c.Tenant], states[absPath(c.StatePath)] = c, c
		kept = append(kept, c)
	}
	return kept, broken
}

// duplicate reports whether c shares its tenant or state file with a
// config seen before, and how.
func duplicate(c *Config, tenants, states map[string]*Config) (Problem, bool) {
	if first, dup := tenants[c.Tenant]; dup {
		return Problem{File: c.File, Line: c.Line("tenant"), Key: "tenant",
			Message: fmt.Sprintf("tenant %q is also configured in %s", c.Tenant, first.File)}, true
	}
	if first, dup := states[absPath(c.StatePath)]; dup {
		return Problem{File: c.File, Line: c.Line("state_path"), Key: "state_path",
			Message: fmt.Sprintf("state file %s is also used by %s (tenant %s)", c.StatePath, first.File, first.Tenant)}, true
	}
	return Problem{}, false
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
