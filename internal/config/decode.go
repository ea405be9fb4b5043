package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
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
// may be secrets. It reads structs, lists (slices), mappings with string
// keys (maps) and scalars; a field of any other type is a Problem naming
// its key, never a panic.
type decoder struct {
	file     string
	env      func(string) (string, bool)
	problems []Problem
	lines    map[string]int
	fromEnv  map[string]string // key → first variable its value used
	literal  map[string]bool   // secret keys written in the file itself
	set      map[string]bool   // keys the file gave a value (not null)
	budget   int               // values still allowed; see maxValues
	depth    int
}

// Limits of one walk. Aliases let a small file name the same list many
// times over, a recursive type would follow an alias cycle for ever, and
// nobody reads the thousandth problem of one file.
const (
	maxValues   = 200_000
	maxDepth    = 32
	maxProblems = 100
)

func newDecoder(file string, env func(string) (string, bool)) *decoder {
	return &decoder{
		file:    file,
		env:     env,
		lines:   map[string]int{},
		fromEnv: map[string]string{},
		literal: map[string]bool{},
		set:     map[string]bool{},
		budget:  maxValues,
	}
}

// add records a problem. After maxProblems it records that there are more
// and ends the walk.
func (d *decoder) add(line int, key, format string, args ...any) {
	switch {
	case len(d.problems) > maxProblems:
		return
	case len(d.problems) == maxProblems:
		d.problems = append(d.problems, Problem{File: d.file, Line: line,
			Message: "more problems not shown: fix the ones above first"})
		d.budget = -1
		return
	}
	d.problems = append(d.problems, Problem{
		File: d.file, Line: line, Key: key, Message: fmt.Sprintf(format, args...),
	})
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// decodeStruct decodes the mapping n into the struct v; path is the key
// path of v ("" for the root, "esm.attributes", ...). The keys of a
// platform block (an inline struct tagged platform:"name") are accepted
// only when the mapping's platform key names that platform.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	defer d.setDefaults(v, path)
	n = unalias(n)
	if isNull(n) {
		return // "chat:" with nothing under it keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "want a mapping of keys, got %s", kindName(n))
		return
	}
	fields := fieldsByName(v.Type())
	sel := d.platform(n, v, path, fields)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := unalias(n.Content[i])
		if !d.mapKey(k, path, seen) {
			continue
		}
		f, ok := d.field(k, path, fields, sel)
		if !ok {
			continue
		}
		key := join(path, k.Value)
		d.lines[key] = k.Line
		d.decodeValue(n.Content[i+1], v.FieldByIndex(f.index), key)
	}
}

// field finds the field of key k, reporting a key that is unknown or
// that belongs to another platform than sel.
func (d *decoder) field(k *yaml.Node, path string, fields map[string][]field, sel selection) (field, bool) {
	candidates := fields[k.Value]
	for _, f := range candidates {
		if sel.accepts(f) {
			return f, true
		}
	}
	if len(candidates) == 0 {
		d.unknownKey(k, path, fields, sel)
		return field{}, false
	}
	key, owners := join(path, k.Value), platformsOf(candidates)
	if slices.Contains(Platforms, sel.name) {
		d.add(k.Line, key, "not a key of %s %s (it belongs to %s)", sel.key, sel.name, owners)
	} else {
		d.add(k.Line, key, "a key of %s %s only", sel.key, owners)
	}
	return field{}, false
}

// platform reads the platform key of the mapping n, which is decoded
// into the struct v, before any other key: a platform block's keys may
// come first in the file.
func (d *decoder) platform(n *yaml.Node, v reflect.Value, path string, fields map[string][]field) selection {
	sel, ok := selector(v, fields)
	if !ok {
		return selection{}
	}
	sel.key = join(path, platformKey)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := unalias(n.Content[i]); k.Kind != yaml.ScalarNode || k.Value != platformKey {
			continue
		}
		value := unalias(n.Content[i+1])
		if isNull(value) {
			break // keeps the default
		}
		if value.Kind != yaml.ScalarNode || !plainTags[value.ShortTag()] {
			return selection{} // unknown, so not gated: decodeValue reports why
		}
		name, _, err := expand(value.Value, d.env, false)
		if err != nil {
			return selection{}
		}
		sel.name = name
		break // a second platform key is reported as set twice
	}
	return sel
}

// setDefaults lets a struct that is a defaulter fill the defaults that
// depend on what the file set.
func (d *decoder) setDefaults(v reflect.Value, path string) {
	if !v.CanAddr() || !v.Addr().CanInterface() {
		return
	}
	if s, ok := v.Addr().Interface().(defaulter); ok {
		s.setDefaults(func(key string) bool { return d.set[join(path, key)] })
	}
}

// mapKey checks a key of a mapping: a plain string, not set before in the
// mapping, not a merge key. seen maps the keys met so far to their line.
func (d *decoder) mapKey(k *yaml.Node, path string, seen map[string]int) bool {
	switch first, dup := seen[k.Value]; {
	case k.Kind != yaml.ScalarNode:
		d.add(k.Line, path, "a key must be a plain string, got %s", kindName(k))
	case dup:
		d.add(k.Line, join(path, displayKey(k.Value)), "key set twice (first on line %d)", first)
	case k.ShortTag() == "!!merge":
		d.add(k.Line, path, "merge keys (<<) are not supported")
	default:
		seen[k.Value] = k.Line
		return true
	}
	return false
}

func (d *decoder) unknownKey(k *yaml.Node, path string, fields map[string][]field, sel selection) {
	key := join(path, displayKey(k.Value))
	if hint := suggest(k.Value, path, fields, sel); hint != "" {
		d.add(k.Line, key, "unknown key (did you mean %s?)", hint)
		return
	}
	d.add(k.Line, key, "unknown key")
}

// decodeValue decodes n into v: a struct, a slice, a map with string keys,
// or a scalar (string, bool, number, duration). Any other type is reported
// as a problem of key.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, key string) {
	n = unalias(n)
	if !d.spend(n, key, 1) {
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	switch {
	case !v.CanSet():
		d.add(n.Line, key, "cannot be read: its field is not exported (a bug in syncworker)")
	case !decodable(v.Type(), nil):
		d.add(n.Line, key, "cannot be read into a field of type %s (a bug in syncworker)", v.Type())
	case v.Kind() == reflect.Struct:
		d.decodeStruct(n, v, key)
	case v.Kind() == reflect.Slice:
		d.decodeList(n, v, key)
	case v.Kind() == reflect.Map:
		d.decodeMap(n, v, key)
	default:
		d.decodeScalar(n, v, key)
	}
}

// spend takes count values from the walk's budget and checks its depth;
// false means stop: the problem is reported once.
func (d *decoder) spend(n *yaml.Node, key string, count int) bool {
	switch {
	case d.budget < 0:
		return false
	case count > d.budget:
		d.add(n.Line, key, "too many values: more than %d (an alias used too often?)", maxValues)
		d.budget = -1
		return false
	case d.depth >= maxDepth:
		d.add(n.Line, key, "nested more than %d levels deep", maxDepth)
		return false
	}
	d.budget -= count
	return true
}

// decodeList decodes the sequence n into the slice v, replacing its
// default. An empty entry is a problem: "- " is more likely a slip than
// a wish for an empty or zero value.
func (d *decoder) decodeList(n *yaml.Node, v reflect.Value, key string) {
	if isNull(n) {
		return // keeps the default
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, key, "want %s, got %s", typeName(v.Type()), kindName(n))
		return
	}
	if !d.spend(n, key, len(n.Content)) {
		return
	}
	list := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ikey := indexKey(key, i)
		d.lines[ikey] = item.Line
		if isNull(unalias(item)) {
			d.add(item.Line, ikey, `empty entry: remove it, or write "" for an empty value`)
			continue
		}
		d.decodeValue(item, list.Index(i), ikey)
	}
	v.Set(list)
	d.set[key] = true
}

// decodeMap decodes the mapping n into the map v, whose keys are strings,
// replacing its default. Keys are taken as written: ${VAR} is expanded in
// values only.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, key string) {
	if isNull(n) {
		return // keeps the default
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, key, "want %s, got %s", typeName(v.Type()), kindName(n))
		return
	}
	if !d.spend(n, key, len(n.Content)/2) {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := unalias(n.Content[i])
		if !d.mapKey(k, key, seen) {
			continue
		}
		ekey := join(key, displayKey(k.Value))
		d.lines[ekey] = k.Line
		if isNull(unalias(n.Content[i+1])) {
			d.add(k.Line, ekey, `no value: remove the key, or write "" for an empty value`)
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decodeValue(n.Content[i+1], elem, ekey)
		name := reflect.New(v.Type().Key()).Elem()
		name.SetString(k.Value)
		m.SetMapIndex(name, elem)
	}
	v.Set(m)
	d.set[key] = true
}

// decodeScalar decodes the scalar n into v, a string, bool, number or
// duration, expanding ${VAR}.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, key string) {
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
		return
	}
	d.set[key] = true
}

var plainTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true,
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// decodable reports whether the decoder can read a value of type t.
// visiting holds the slice and map types being looked at, so that a
// recursive type ends the recursion (the walk's depth limit bounds it).
func decodable(t reflect.Type, visiting map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Struct, reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice, reflect.Map:
		if t.Kind() == reflect.Map && t.Key().Kind() != reflect.String {
			return false
		}
		if visiting[t] {
			return true
		}
		if visiting == nil {
			visiting = map[reflect.Type]bool{}
		}
		visiting[t] = true
		return decodable(t.Elem(), visiting)
	}
	return false
}

// setScalar parses s into v. It returns what was wanted when s does not
// parse, and "" on success.
func setScalar(v reflect.Value, s string) string {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			return "want true or false"
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return setInt(v, s)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v.OverflowUint(u) {
			return fmt.Sprintf("want a whole number from 0 to %d", uint64(math.MaxUint64)>>(64-v.Type().Bits()))
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "want a number"
		}
		v.SetFloat(f)
	default:
		return "cannot be read into " + v.Type().String()
	}
	return ""
}

// setInt parses s into a signed integer or a duration.
func setInt(v reflect.Value, s string) string {
	if v.Type() == durationType {
		dur, err := time.ParseDuration(s)
		if err != nil {
			return `want a duration such as "30s", "10m" or "168h"`
		}
		v.SetInt(int64(dur))
		return ""
	}
	i, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err == nil && !v.OverflowInt(i):
		v.SetInt(i)
		return ""
	case v.Type().Bits() < 64 && (err == nil || errors.Is(err, strconv.ErrRange)):
		bits := v.Type().Bits()
		return fmt.Sprintf("want a whole number from %d to %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1)
	}
	return "want a whole number"
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

// suggest names the keys an unknown key was probably meant to be: a close
// spelling among its siblings, else the same name in another section. A
// sibling of the chosen platform wins a tie; one of another platform is
// named with it.
func suggest(name, path string, fields map[string][]field, sel selection) string {
	best, bestDist, bestUsable := "", maxTypos(name)+1, false
	for f, candidates := range fields {
		dist, usable := levenshtein(strings.ToLower(name), f), slices.ContainsFunc(candidates, sel.accepts)
		if dist < bestDist || dist == bestDist && (usable && !bestUsable || usable == bestUsable && f < best) {
			best, bestDist, bestUsable = f, dist, usable
		}
	}
	switch {
	case best != "" && bestUsable:
		return strconv.Quote(join(path, best))
	case best != "":
		return fmt.Sprintf("%q, a key of %s %s", join(path, best), sel.key, platformsOf(fields[best]))
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

// typeName says what a value of type t is written as: "a duration",
// "a list of strings".
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "a list of " + typeNames(t.Elem())
	case reflect.Map:
		return "a mapping of keys to " + typeNames(t.Elem())
	case reflect.Struct:
		return "a mapping of keys"
	}
	one, _ := scalarNames(t)
	return one
}

// typeNames is typeName in the plural: "durations", "lists of strings".
func typeNames(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "lists of " + typeNames(t.Elem())
	case reflect.Map, reflect.Struct:
		return "mappings"
	}
	_, many := scalarNames(t)
	return many
}

func scalarNames(t reflect.Type) (one, many string) {
	switch t.Kind() {
	case reflect.String:
		return "a string", "strings"
	case reflect.Bool:
		return "true or false", "true or false values"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == durationType {
			return "a duration", "durations"
		}
		return "a whole number", "whole numbers"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number", "whole numbers"
	case reflect.Float32, reflect.Float64:
		return "a number", "numbers"
	}
	return t.String(), t.String() + " values"
}
