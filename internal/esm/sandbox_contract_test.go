package esm

import (
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestContract_Sandbox holds the sandbox, the ESM fake that tests, the demo
// and benchmarks share, to the contract.
func TestContract_Sandbox(t *testing.T) {
	t.Parallel()
	testContract(t, func(t *testing.T) backend { return sandboxBackend(t, sandbox.Options{}) })
}

// TestContract_SandboxNotFoundOnEmpty runs the contract against a sandbox
// that answers an empty listing with 404, which SPEC §4.2 allows too.
func TestContract_SandboxNotFoundOnEmpty(t *testing.T) {
	t.Parallel()
	testContract(t, func(t *testing.T) backend { return sandboxBackend(t, sandbox.Options{NotFoundOnEmpty: true}) })
}

func sandboxBackend(t *testing.T, opts sandbox.Options) backend {
	sb, baseURL := newSandbox(t, opts)
	o := sb.Options()
	return backend{
		BaseURL: baseURL, Login: o.Login, Password: o.Password,
		ChatTemplate: o.Template, PersonTemplate: o.PersonTemplate, Folder: o.Folder,
		Seed: func(t *testing.T, template string, data map[string][]Value) string {
			t.Helper()
			folder := o.Folder
			if template == o.PersonTemplate {
				folder = o.PersonFolder
			}
			id, err := sb.CreateCard(template, folder, toSandbox(t, data))
			if err != nil {
				t.Fatalf("seed sandbox: %v", err)
			}
			return id
		},
	}
}

// toSandbox converts client values into the sandbox's own.
func toSandbox(t *testing.T, data map[string][]Value) map[string][]sandbox.Value {
	out := map[string][]sandbox.Value{}
	for code, vs := range data {
		for _, v := range vs {
			var sv sandbox.Value
			switch v.Kind() {
			case KindString:
				sv = sandbox.Text(v.Text())
			case KindNumber:
				n, _ := v.Int()
				sv = sandbox.Number(float64(n))
			case KindDateTime:
				tm, _ := v.Time()
				sv = sandbox.Time(tm)
			case KindStatic:
				sv = sandbox.Static(sandbox.StaticValue{Value: v.Text(), Code: v.Code()})
			case KindRef:
				sv = sandbox.Ref(v.RefID())
			default:
				t.Fatalf("cannot seed a %s value", v.Kind())
			}
			out[code] = append(out[code], sv)
		}
	}
	return out
}
