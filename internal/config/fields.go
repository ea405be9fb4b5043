package config

import (
	"reflect"
	"slices"
	"strings"
)

// field is one key of a struct: the index path of its field, through
// inline structs, and the platform whose block holds it ("" when the key
// belongs to every platform).
type field struct {
	name     string
	index    []int
	platform string
}

// structFields lists the keys of t in field order. The keys of an inline
// struct (tag `yaml:",inline"`) take its place, and belong to the platform
// of its `platform` tag, if any.
func structFields(t reflect.Type) []field {
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "" && slices.Contains(strings.Split(opts, ","), "inline") && f.Type.Kind() == reflect.Struct:
			for _, inner := range structFields(f.Type) {
				inner.index = append([]int{i}, inner.index...)
				if inner.platform == "" {
					inner.platform = f.Tag.Get("platform")
				}
				fields = append(fields, inner)
			}
		case name != "" && name != "-":
			fields = append(fields, field{name: name, index: []int{i}})
		}
	}
	return fields
}

// fieldsByName maps each key of t to its fields: one, or one per platform
// block that has the key.
func fieldsByName(t reflect.Type) map[string][]field {
	byName := map[string][]field{}
	for _, f := range structFields(t) {
		byName[f.name] = append(byName[f.name], f)
	}
	return byName
}

// schemaKeys lists every key path of t, depth first.
func schemaKeys(t reflect.Type, path string) []string {
	var keys []string
	for _, f := range structFields(t) {
		key := join(path, f.name)
		keys = append(keys, key)
		if ft := t.FieldByIndex(f.index).Type; ft.Kind() == reflect.Struct {
			keys = append(keys, schemaKeys(ft, key)...)
		}
	}
	return keys
}

var allKeys = schemaKeys(reflect.TypeFor[Config](), "")

// platformKey is the key that chooses among the platform blocks of the
// struct that holds it (chat.platform).
const platformKey = "platform"

// selection is the platform a mapping chose, when its struct has platform
// blocks.
type selection struct {
	gated bool   // only the chosen platform's block is open
	key   string // path of the platform key: "chat.platform"
	name  string // the platform
}

// accepts reports whether f may be set under the selection.
func (s selection) accepts(f field) bool {
	return !s.gated || f.platform == "" || f.platform == s.name
}

// selector returns the selection of the struct v before its mapping is
// read: gated, with the default platform, when v has platform blocks and
// a string platform key of its own.
func selector(v reflect.Value, fields map[string][]field) (selection, bool) {
	blocks := false
	for _, fs := range fields {
		blocks = blocks || slices.ContainsFunc(fs, func(f field) bool { return f.platform != "" })
	}
	sel := fields[platformKey]
	if !blocks || len(sel) != 1 || sel[0].platform != "" {
		return selection{}, false
	}
	value := v.FieldByIndex(sel[0].index)
	if value.Kind() != reflect.String {
		return selection{}, false
	}
	return selection{gated: true, name: value.String()}, true
}

// platformsOf names the platforms of fields: "genesys-cloud", or
// "ccai-platform or genesys-cloud".
func platformsOf(fields []field) string {
	var names []string
	for _, f := range fields {
		if !slices.Contains(names, f.platform) {
			names = append(names, f.platform)
		}
	}
	slices.Sort(names)
	return strings.Join(names, " or ")
}

// defaulter is a struct whose defaults depend on other keys, such as
// ChatConfig, where chat.max_rps depends on chat.platform. The decoder
// calls setDefaults when it has read the struct; set reports whether the
// file gave one of the struct's keys a value.
type defaulter interface {
	setDefaults(set func(key string) bool)
}
