package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// tree is a recursive type: an alias cycle must not walk it for ever.
type tree map[string]tree

// kinds has a field of every reflect.Kind, and the composite types the
// decoder reads. FuzzParse decodes its inputs into it too.
type kinds struct {
	Bool       bool              `yaml:"bool"`
	Int        int               `yaml:"int"`
	Int8       int8              `yaml:"int8"`
	Int16      int16             `yaml:"int16"`
	Int32      int32             `yaml:"int32"`
	Int64      int64             `yaml:"int64"`
	Uint       uint              `yaml:"uint"`
	Uint8      uint8             `yaml:"uint8"`
	Uint16     uint16            `yaml:"uint16"`
	Uint32     uint32            `yaml:"uint32"`
	Uint64     uint64            `yaml:"uint64"`
	Uintptr    uintptr           `yaml:"uintptr"`
	Float32    float32           `yaml:"float32"`
	Float64    float64           `yaml:"float64"`
	Complex64  complex64         `yaml:"complex64"`
	Complex128 complex128        `yaml:"complex128"`
	Array      [2]string         `yaml:"array"`
	Chan       chan int          `yaml:"chan"`
	Func       func()            `yaml:"func"`
	Interface  any               `yaml:"interface"`
	Map        map[string]string `yaml:"map"`
	Pointer    *string           `yaml:"pointer"`
	Slice      []string          `yaml:"slice"`
	String     string            `yaml:"string"`
	Struct     MenuValue         `yaml:"struct"`
	Unsafe     unsafe.Pointer    `yaml:"unsafe"`
	unexported string            `yaml:"unexported"`

	Duration   time.Duration             `yaml:"duration"`
	Secret     Secret                    `yaml:"secret"`
	Secrets    []Secret                  `yaml:"secrets"`
	Durations  []time.Duration           `yaml:"durations"`
	Numbers    []float64                 `yaml:"numbers"`
	Lists      [][]string                `yaml:"lists"`
	Structs    []MenuValue               `yaml:"structs"`
	MapOfLists map[string][]string       `yaml:"map_of_lists"`
	MapOfMaps  map[string]map[string]int `yaml:"map_of_maps"`
	IntKeys    map[int]string            `yaml:"int_keys"`
	Pointers   []*string                 `yaml:"pointers"`
	Tree       tree                      `yaml:"tree"`
}

// decodeKinds decodes text into a kinds, returning it and the problems.
func decodeKinds(t *testing.T, text string) (kinds, []Problem) {
	t.Helper()
	root, p := readYAML(strings.NewReader(text), "kinds.yaml")
	if p != nil {
		t.Fatalf("readYAML: %v", p)
	}
	var k kinds
	d := newDecoder("kinds.yaml", testEnv())
	d.decodeStruct(root, reflect.ValueOf(&k).Elem(), "")
	return k, d.problems
}

// TestDecode_EveryKind gives every field every shape of value: no panic,
// and each failure is a problem naming the field's key and line.
func TestDecode_EveryKind(t *testing.T) {
	values := []string{`1`, `-1`, `x`, `""`, `~`, `[1, x]`, `{a: 1}`, `[[a]]`, `{a: [1]}`, `${CHAT_TOKEN}`, `!!binary aGk=`}
	typ := reflect.TypeFor[kinds]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		for _, value := range values {
			t.Run(name+"="+value, func(t *testing.T) {
				_, problems := decodeKinds(t, "\n"+name+": "+value+"\n")
				for _, p := range problems {
					if p.File != "kinds.yaml" || p.Line != 2 || !strings.HasPrefix(p.Key, name) {
						t.Errorf("problem %q does not name %s on line 2", p, name)
					}
					assertNoSecrets(t, p.String())
				}
			})
		}
	}
}

func TestDecode_UnsupportedKindIsAProblem(t *testing.T) {
	tests := []struct{ key, want string }{
		{"uintptr", "kinds.yaml:1: uintptr: cannot be read into a field of type uintptr (a bug in syncworker)"},
		{"complex64", "kinds.yaml:1: complex64: cannot be read into a field of type complex64 (a bug in syncworker)"},
		{"complex128", "kinds.yaml:1: complex128: cannot be read into a field of type complex128 (a bug in syncworker)"},
		{"array", "kinds.yaml:1: array: cannot be read into a field of type [2]string (a bug in syncworker)"},
		{"chan", "kinds.yaml:1: chan: cannot be read into a field of type chan int (a bug in syncworker)"},
		{"func", "kinds.yaml:1: func: cannot be read into a field of type func() (a bug in syncworker)"},
		{"interface", "kinds.yaml:1: interface: cannot be read into a field of type interface {} (a bug in syncworker)"},
		{"pointer", "kinds.yaml:1: pointer: cannot be read into a field of type *string (a bug in syncworker)"},
		{"unsafe", "kinds.yaml:1: unsafe: cannot be read into a field of type unsafe.Pointer (a bug in syncworker)"},
		{"unexported", "kinds.yaml:1: unexported: cannot be read: its field is not exported (a bug in syncworker)"},
		{"int_keys", "kinds.yaml:1: int_keys: cannot be read into a field of type map[int]string (a bug in syncworker)"},
		{"pointers", "kinds.yaml:1: pointers: cannot be read into a field of type []*string (a bug in syncworker)"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, problems := decodeKinds(t, tt.key+": 1\n")
			if len(problems) != 1 || problems[0].String() != tt.want {
				t.Errorf("problems %v, want %q", problems, tt.want)
			}
		})
	}
}

func TestDecode_ListsAndMaps(t *testing.T) {
	k, problems := decodeKinds(t, `
secrets: [s1, "${CHAT_TOKEN}"]
durations:
  - 30s
  - 1h
numbers: [1, 2.5]
lists: [[a, b], []]
structs:
  - {value: Yes, code: y}
map: {a: x, "b c": y}
map_of_lists:
  one: [1]
  none: []
map_of_maps: {a: {b: 1}}
int8: -128
uint8: 255
float32: 1.5
`)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"secrets", []string{string(k.Secrets[0]), string(k.Secrets[1])}, []string{"s1", chatToken}},
		{"durations", k.Durations, []time.Duration{30 * time.Second, time.Hour}},
		{"numbers", k.Numbers, []float64{1, 2.5}},
		{"lists", k.Lists, [][]string{{"a", "b"}, {}}},
		{"structs", k.Structs, []MenuValue{{Value: "Yes", Code: "y"}}},
		{"map", k.Map, map[string]string{"a": "x", "b c": "y"}},
		{"map_of_lists", k.MapOfLists, map[string][]string{"one": {"1"}, "none": {}}},
		{"map_of_maps", k.MapOfMaps, map[string]map[string]int{"a": {"b": 1}}},
		{"int8", k.Int8, int8(-128)},
		{"uint8", k.Uint8, uint8(255)},
		{"float32", k.Float32, float32(1.5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestDecode_ListAndMapProblems(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"value instead of a list", "durations: 1s\n",
			[]string{`kinds.yaml:1: durations: want a list of durations, got a single value`}},
		{"mapping instead of a list", "lists: {a: b}\n",
			[]string{`kinds.yaml:1: lists: want a list of lists of strings, got a mapping`}},
		{"list instead of a mapping", "map_of_lists: [a]\n",
			[]string{`kinds.yaml:1: map_of_lists: want a mapping of keys to lists of strings, got a list`}},
		{"bad entry", "durations:\n  - 1s\n  - soon\n",
			[]string{`kinds.yaml:3: durations[1]: want a duration such as "30s", "10m" or "168h", got "soon"`}},
		{"bad entry from the environment", "numbers: [1, '${CHAT_TOKEN}']\n",
			[]string{`kinds.yaml:1: numbers[1]: want a number, got the value of ${CHAT_TOKEN}`}},
		{"empty entry", "secrets:\n  - a\n  -\n",
			[]string{`kinds.yaml:3: secrets[1]: empty entry: remove it, or write "" for an empty value`}},
		{"unset variable in an entry", "secrets: [\"${NOPE}\"]\n",
			[]string{`kinds.yaml:1: secrets[0]: environment variable NOPE is not set`}},
		{"duplicate map key", "map:\n  a: x\n  a: y\n",
			[]string{`kinds.yaml:3: map.a: key set twice (first on line 2)`}},
		{"map key not a string", "map: {[a]: x}\n",
			[]string{`kinds.yaml:1: map: a key must be a plain string, got a list`}},
		{"map value missing", "map:\n  a:\n",
			[]string{`kinds.yaml:2: map.a: no value: remove the key, or write "" for an empty value`}},
		{"map merge key", "map:\n  <<: {a: x}\n",
			[]string{`kinds.yaml:2: map: merge keys (<<) are not supported`}},
		{"secret map key not shown", "map_of_maps:\n  a:\n    secret T0ken here: x\n",
			[]string{`kinds.yaml:3: map_of_maps.a.(key not shown): want a whole number, got "x"`}},
		{"bad struct in a list", "structs: [{value: a, kode: b}]\n",
			[]string{`kinds.yaml:1: structs[0].kode: unknown key (did you mean "structs[0].code"?)`}},
		{"int8 out of range", "int8: 128\n",
			[]string{`kinds.yaml:1: int8: want a whole number from -128 to 127, got "128"`}},
		{"uint negative", "uint16: -1\n",
			[]string{`kinds.yaml:1: uint16: want a whole number from 0 to 65535, got "-1"`}},
		{"float32 out of range", "float32: 1e39\n",
			[]string{`kinds.yaml:1: float32: want a number, got "1e39"`}},
		{"alias cycle through a recursive type", "tree: &t {a: *t}\n",
			[]string{`kinds.yaml:1: tree.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a: nested more than 32 levels deep`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := decodeKinds(t, tt.text)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestDecode_AliasBomb: a small file whose aliases name a list a hundred
// million times is refused after a bounded walk, with one problem.
func TestDecode_AliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &a0 a\n")
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [%s*a%d]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d,", i-1), 99), i-1)
	}
	b.WriteString("lists: *a4\n")
	root, p := readYAML(strings.NewReader(b.String()), "bomb.yaml")
	if p != nil {
		t.Fatal(p)
	}
	var v [][][][]string
	d := newDecoder("bomb.yaml", testEnv())
	start := time.Now()
	d.decodeValue(root.Content[len(root.Content)-1], reflect.ValueOf(&v).Elem(), "lists")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	want := fmt.Sprintf("too many values: more than %d (an alias used too often?)", maxValues)
	if len(d.problems) != 1 || d.problems[0].Message != want || !strings.HasPrefix(d.problems[0].Key, "lists[0]") {
		t.Errorf("problems %v, want one about lists[0]...: %q", d.problems, want)
	}
}

// TestDecode_ProblemsAreCapped: a file of a million mistakes gets a
// readable error.
func TestDecode_ProblemsAreCapped(t *testing.T) {
	text := "x: &x [" + strings.Repeat("[a], ", 999) + "[a]]\nslice: [" + strings.Repeat("*x, ", 999) + "*x]\n"
	_, problems := decodeKinds(t, text)
	if len(problems) != maxProblems+1 {
		t.Fatalf("%d problems, want %d", len(problems), maxProblems+1)
	}
	if got, want := problems[maxProblems].Message, "more problems not shown: fix the ones above first"; got != want {
		t.Errorf("last problem %q, want %q", got, want)
	}
}

// TestConfigSchema_Decodable: every field of Config is of a type the
// decoder reads, so no key of a tenant file can hit the "a bug" problem.
func TestConfigSchema_Decodable(t *testing.T) {
	var walk func(t reflect.Type, path string) []string
	walk = func(typ reflect.Type, path string) []string {
		var bad []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			inline := opts == "inline"
			if name == "-" || name == "" && !inline {
				continue
			}
			key := join(path, name)
			if inline {
				key = path
			}
			switch {
			case !f.IsExported() || !decodable(f.Type, nil):
				bad = append(bad, fmt.Sprintf("%s (%s)", key, f.Type))
			case f.Type.Kind() == reflect.Struct:
				bad = append(bad, walk(f.Type, key)...)
			}
		}
		return bad
	}
	if bad := walk(reflect.TypeFor[Config](), ""); len(bad) > 0 {
		t.Errorf("fields the decoder cannot read: %v", bad)
	}
}
