package config

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks a YAML node tree into a struct by the struct's yaml tags.
// It does what yaml.Node.Decode does not: it rejects unknown keys with
// their line, expands ${VAR} in scalar values only (so an expanded value is
// never parsed as YAML), and reports problems without quoting values that
// may be secrets.
type decoder struct {
	file     string
	env      func(string) (string, bool)
	problems []Problem
	lines    map[string]int
	fromEnv  map[string]string // key → first variable its value used
	literal  map[string]bool   // secret keys written in the file itself
}

func newDecoder(file string, env func(string) (string, bool)) *decoder {
	return &decoder{
		file:    file,
		env:     env,
		lines:   map[string]int{},
		fromEnv: map[string]string{},
		literal: map[string]bool{},
	}
}

func (d *decoder) add(line int, key, format string, args ...any) {
	d.problems = append(d.problems, Problem{
		File: d.file, Line: line, Key: key, Message: fmt.Sprintf(format, args...),
	})
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// decodeStruct decodes the mapping n into the struct v; path is the key
// path of v ("" for the root, "esm.attributes", ...).
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	n = unalias(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "chat:" with nothing under it keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "want a mapping of keys, got %s", kindName(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := unalias(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			d.add(k.Line, path, "a key must be a plain string, got %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.add(k.Line, join(path, displayKey(k.Value)), "key set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.unknownKey(k, path, fields)
			continue
		}
		key := join(path, k.Value)
		d.lines[key] = k.Line
		d.decodeValue(n.Content[i+1], v.Field(idx), key)
	}
}

func (d *decoder) unknownKey(k *yaml.Node, path string, fields map[string]int) {
	if k.Value == "<<" {
		d.add(k.Line, path, "merge keys (<<) are not supported")
		return
	}
	key := join(path, displayKey(k.Value))
	if hint := suggest(k.Value, path, fields); hint != "" {
		d.add(k.Line, key, "unknown key (did you mean %s?)", hint)
		return
	}
	d.add(k.Line, key, "unknown key")
}

// decodeValue decodes n into v, which is a struct or one of the scalar
// types the Config uses.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, key string) {
	n = unalias(n)
	if v.Kind() == reflect.Struct {
		d.decodeStruct(n, v, key)
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, key, "want %s, got %s", typeName(v.Type()), kindName(n))
		return
	}
	switch tag := n.ShortTag(); {
	case tag == "!!null":
		if strings.HasPrefix(key, "esm.attributes.") {
			d.add(n.Line, key, `no value: write "" to disable the attribute, or remove the key to use the default`)
		}
		return // otherwise an empty value keeps the default
	case !plainTags[tag]:
		d.add(n.Line, key, "unsupported YAML tag %s", tag)
		return
	}
	secret := v.Type() == secretType
	s, vars, err := expand(n.Value, d.env, secret)
	if err != nil {
		d.add(n.Line, key, "%v", err)
		return
	}
	if len(vars) > 0 {
		d.fromEnv[key] = vars[0]
	} else if secret && s != "" {
		d.literal[key] = true
	}
	if msg := setScalar(v, s); msg != "" {
		d.add(n.Line, key, "%s, got %s", msg, shown(s, vars))
	}
}

var plainTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true,
}

// setScalar parses s into v. It returns what was wanted when s does not
// parse, and "" on success.
func setScalar(v reflect.Value, s string) string {
	switch {
	case v.Type() == durationType:
		dur, err := time.ParseDuration(s)
		if err != nil {
			return `want a duration such as "30s", "10m" or "168h"`
		}
		v.SetInt(int64(dur))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int:
		i, err := strconv.Atoi(s)
		if err != nil {
			return "want a whole number"
		}
		v.SetInt(int64(i))
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "want a number"
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			return "want true or false"
		}
		v.SetBool(b)
	default:
		panic("config: unsupported field type " + v.Type().String())
	}
	return ""
}

// parseBool accepts what yaml.v3 accepts for a bool field.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// shown describes a bad value for an error message: quoted when it was
// written in the file, by its variable when it came from the environment
// (where it may be a secret that landed in the wrong key).
func shown(s string, vars []string) string {
	if len(vars) > 0 {
		return "the value of ${" + vars[0] + "}"
	}
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${VAR} in s with env(VAR) and $$ with $; any other $ is
// kept. It returns the variables used, in order. The expanded text is not
// scanned again. Parts of a secret are never quoted in an error.
func expand(s string, env func(string) (string, bool), secret bool) (string, []string, error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	var vars []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, fmt.Errorf("unterminated ${ (write $$ for a literal $)")
			}
			name := s[i+2 : i+2+end]
			if !varName.MatchString(name) {
				if secret || len(name) > 64 {
					return "", nil, fmt.Errorf("bad variable name in ${...}: use letters, digits and _ (write $$ for a literal $)")
				}
				return "", nil, fmt.Errorf("bad variable name %q in ${...}: use letters, digits and _ (write $$ for a literal $)", name)
			}
			val, ok := env(name)
			if !ok {
				return "", nil, fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(val)
			vars = append(vars, name)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), vars, nil
}

// unalias follows alias nodes to the node they name.
func unalias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// yamlFields maps the yaml tag names of t's fields to their index.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

// schemaKeys lists every key path of t, depth first.
func schemaKeys(t reflect.Type, path string) []string {
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := join(path, name)
		keys = append(keys, key)
		if ft := t.Field(i).Type; ft.Kind() == reflect.Struct && ft != durationType {
			keys = append(keys, schemaKeys(ft, key)...)
		}
	}
	return keys
}

var allKeys = schemaKeys(reflect.TypeFor[Config](), "")

// suggest names the keys an unknown key was probably meant to be: a close
// spelling among its siblings, else the same name in another section.
func suggest(name, path string, fields map[string]int) string {
	best, bestDist := "", maxTypos(name)+1
	for f := range fields {
		if dist := levenshtein(strings.ToLower(name), f); dist < bestDist || dist == bestDist && f < best {
			best, bestDist = f, dist
		}
	}
	if best != "" {
		return strconv.Quote(join(path, best))
	}
	var elsewhere []string
	for _, k := range allKeys {
		if k == name || strings.HasSuffix(k, "."+name) {
			elsewhere = append(elsewhere, strconv.Quote(k))
		}
	}
	sort.Strings(elsewhere)
	return strings.Join(elsewhere, " or ")
}

func maxTypos(name string) int {
	return min(max(len(name)/3, 1), 3)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// displayKey keeps a malformed key out of messages: in a flow mapping,
// "{password hunter2}" is a key, and it may hold a secret.
func displayKey(k string) string {
	if plainKey.MatchString(k) {
		return k
	}
	return "(key not shown)"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Bool:
		return "true or false"
	}
	return t.String()
}
