package esm

import (
	"net/http/httptest"
	"testing"

	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestContract_Sandbox holds the sandbox to the contract the fake holds:
// the two ESM backends must not drift apart.
func TestContract_Sandbox(t *testing.T) {
	testContract(t, func(t *testing.T) backend {
		sb := sandbox.New(sandbox.Options{Login: testLogin, Password: testPassword})
		srv := httptest.NewServer(sb)
		t.Cleanup(srv.Close)
		o := sb.Options()
		return backend{
			BaseURL: srv.URL + sandbox.ESMPrefix, Login: testLogin, Password: testPassword,
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
	})
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
