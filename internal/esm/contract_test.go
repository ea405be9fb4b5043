package esm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backend is one implementation of ESM's REST subset that the client must
// work against: the sandbox (internal/sandbox) in each of its shapes, and
// any other fake or tenant a test can reach. Its templates use SPEC §3's
// default attribute codes.
type backend struct {
	// BaseURL is the API root, ending in /rest-api/itsm/v1.
	BaseURL         string
	Login, Password string
	// ChatTemplate, PersonTemplate and Folder are codes of SPEC §3.
	ChatTemplate, PersonTemplate, Folder string
	// Seed stores a card directly in the backend and returns its id.
	Seed func(t *testing.T, template string, data map[string][]Value) string
}

var (
	active   = Static("Yes", "yes")
	inactive = Static("No", "no")
)

// testContract is the behaviour every backend must show to this client.
// Each subtest makes its own backend and marks its cards with a unique
// value, so that a backend holding other cards does not disturb it.
func testContract(t *testing.T, newBackend func(t *testing.T) backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, b backend)
	}{
		{"Template", contractTemplate},
		{"ListCards/Paging", contractListPaging},
		{"ListCards/NoMatch", contractListNoMatch},
		{"StreamCards/SameAsListCards", contractStream},
		{"StreamCards/NoMatch", contractStreamNoMatch},
		{"PatchCard/RoundTrip", contractPatchRoundTrip},
		{"PatchCard/WriteError", contractPatchWriteError},
		{"PatchCard/ErrCardNotFound", contractPatchNotFound},
		{"GetCard/ErrCardNotFound", contractGetNotFound},
		{"CreateCard/FindCards", contractCreate},
		{"FindPersons/CaseInsensitive", contractFindPersons},
		{"FindPersons/Injection", contractInjection},
		{"Login/Refused", contractLoginRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newBackend(t))
		})
	}
}

func backendClient(t *testing.T, b backend, mods ...func(*Options)) *Client {
	t.Helper()
	return newTestClient(t, b.BaseURL, append([]func(*Options){func(o *Options) {
		o.Login, o.Password = b.Login, b.Password
	}}, mods...)...)
}

// marker returns a value unique to this test run.
func marker(t *testing.T) string {
	return fmt.Sprintf("contract %s %d", t.Name(), time.Now().UnixNano())
}

func contractTemplate(t *testing.T, b backend) {
	info, err := backendClient(t, b).Template(context.Background(), b.ChatTemplate)
	if err != nil {
		t.Fatal(err)
	}
	act, ok := info.Attributes["is_chat_active"]
	if !ok || act.Type != "static-value" {
		t.Fatalf("is_chat_active = %+v, want a static-value attribute", act)
	}
	for _, want := range []StaticValue{{"yes", "Yes"}, {"no", "No"}} {
		if got, ok := act.Static(want.Value); !ok || got != want {
			t.Errorf("static %q = %+v, %v; want %+v", want.Value, got, ok, want)
		}
	}
	if m := info.Attributes["members"]; !m.MultiValue || m.Type != "reference" {
		t.Errorf("members = %+v, want a multi-value reference", m)
	}
	if _, err := backendClient(t, b).Template(context.Background(), "no_such_template"); !errors.Is(err, ErrTemplateNotFound) {
		t.Errorf("unknown template: err = %v, want ErrTemplateNotFound", err)
	}
}

func contractListPaging(t *testing.T, b backend) {
	mark := marker(t)
	var want []string
	for i := range 5 {
		want = append(want, b.Seed(t, b.ChatTemplate, map[string][]Value{
			"chat_session_id": {String(fmt.Sprintf("ws-page-%d", i))}, "chat_log": {String(mark)},
			"is_chat_active": {active}}))
	}
	b.Seed(t, b.ChatTemplate, map[string][]Value{"chat_log": {String(mark)}, "is_chat_active": {inactive}})
	slices.SortFunc(want, compareIDs)
	slices.Reverse(want)

	c := backendClient(t, b, func(o *Options) { o.PageSize = 2 })
	filter := And(must(Eq("is_chat_active", "Yes")), must(Eq("chat_log", mark)))
	var got []string
	err := c.ListCards(context.Background(), b.ChatTemplate, filter, []string{"chat_session_id", "is_chat_active"}, func(card Card) error {
		if v, _ := card.First("is_chat_active"); v != active {
			t.Errorf("card %s is_chat_active = %#v", card.ID, v)
		}
		if !strings.HasPrefix(card.Text("chat_session_id"), "ws-page-") {
			t.Errorf("card %s chat_session_id = %q", card.ID, card.Text("chat_session_id"))
		}
		got = append(got, card.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v (descending)", got, want)
	}
}

func contractListNoMatch(t *testing.T, b backend) {
	n := 0
	err := backendClient(t, b).ListCards(context.Background(), b.ChatTemplate, must(Eq("chat_log", marker(t))), nil,
		func(Card) error { n++; return nil })
	if err != nil || n != 0 {
		t.Fatalf("ListCards = %d cards, %v; want none, nil", n, err)
	}
}

// contractStream: the stream gives the cards a listing gives, each at
// least once, whatever its order.
func contractStream(t *testing.T, b backend) {
	mark := marker(t)
	for i := range 5 {
		b.Seed(t, b.ChatTemplate, map[string][]Value{"chat_session_id": {String(fmt.Sprintf("ws-stream-%d", i))},
			"chat_log": {String(mark)}, "is_chat_active": {active}})
	}
	b.Seed(t, b.ChatTemplate, map[string][]Value{"chat_log": {String(mark)}, "is_chat_active": {inactive}})
	c := backendClient(t, b, func(o *Options) { o.PageSize = 2 })
	filter := And(must(Eq("is_chat_active", "Yes")), must(Eq("chat_log", mark)))
	attrs := []string{"chat_session_id", "is_chat_active"}
	collect := func(list func(context.Context, string, string, []string, func(Card) error) error) []string {
		seen := map[string]bool{}
		if err := list(context.Background(), b.ChatTemplate, filter, attrs, func(card Card) error {
			if v, _ := card.First("is_chat_active"); v != active || !strings.HasPrefix(card.Text("chat_session_id"), "ws-stream-") {
				t.Errorf("card %s: %v", card.ID, card.Attributes)
			}
			seen[card.ID] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(seen))
	}
	streamed, listed := collect(c.StreamCards), collect(c.ListCards)
	if len(streamed) != 5 || !slices.Equal(streamed, listed) {
		t.Errorf("streamed %v, listed %v", streamed, listed)
	}
}

func contractStreamNoMatch(t *testing.T, b backend) {
	n := 0
	err := backendClient(t, b).StreamCards(context.Background(), b.ChatTemplate, must(Eq("chat_log", marker(t))), nil,
		func(Card) error { n++; return nil })
	if err != nil || n != 0 {
		t.Fatalf("StreamCards = %d cards, %v; want none, nil", n, err)
	}
}

func contractPatchRoundTrip(t *testing.T, b backend) {
	ctx := context.Background()
	c := backendClient(t, b)
	p1 := b.Seed(t, b.PersonTemplate, map[string][]Value{"email": {String("ann@example.com")}})
	p2 := b.Seed(t, b.PersonTemplate, map[string][]Value{"email": {String("bob@example.com")}})
	id := b.Seed(t, b.ChatTemplate, map[string][]Value{"chat_session_id": {String("ws-rt")}, "is_chat_active": {active},
		"end_time": {DateTime(time.Unix(1, 0))}})
	start := time.Date(2024, 5, 1, 12, 58, 0, 900e6, time.FixedZone("EEST", 3*3600))
	want := map[string][]Value{
		"chat_log":         {String("2024-05-01 12:58:00 Maija (customer): O'Brien's $VPN$\n  AND more")},
		"message_count":    {Number(7)},
		"first_reply_wait": {Number(0)},
		"start_time":       {DateTime(start)},
		"end_time":         nil,
		"customer":         {Ref(p1)},
		"members":          {Ref(p1), Ref(p2)},
		"support_person":   {Ref(p2)},
		"is_chat_active":   {inactive},
	}
	if err := c.PatchCard(ctx, b.ChatTemplate, id, want); err != nil {
		t.Fatal(err)
	}
	card, err := c.GetCard(ctx, b.ChatTemplate, id)
	if err != nil {
		t.Fatal(err)
	}
	if card.ID != id || card.Text("chat_session_id") != "ws-rt" {
		t.Errorf("card %s chat_session_id %q; want %s, ws-rt (untouched)", card.ID, card.Text("chat_session_id"), id)
	}
	for code, vs := range want {
		if got := card.Values(code); !slices.Equal(got, vs) {
			t.Errorf("%s = %#v, want %#v", code, got, vs)
		}
	}
	if got := card.Text("start_time"); got != "2024-05-01T09:58:00Z" {
		t.Errorf("start_time = %q, want UTC whole seconds", got)
	}
}

// contractPatchWriteError: a value the template refuses comes back as a
// *WriteError naming the attribute. Whether the accepted attributes of the
// same write are applied is up to the backend.
func contractPatchWriteError(t *testing.T, b backend) {
	id := b.Seed(t, b.ChatTemplate, map[string][]Value{"is_chat_active": {active}})
	err := backendClient(t, b).PatchCard(context.Background(), b.ChatTemplate, id, map[string][]Value{
		"is_chat_active": {Static("Maybe", "maybe")}, "chat_log": {String("ok")}})
	var we *WriteError
	if !errors.As(err, &we) || len(we.Errors) != 1 || we.Errors[0].Attribute != "is_chat_active" {
		t.Fatalf("err = %v, want a WriteError for is_chat_active", err)
	}
	if !strings.HasPrefix(err.Error(), "esm patch "+b.ChatTemplate+" card "+id+": write rejected: is_chat_active: ") {
		t.Errorf("err = %q", err)
	}
}

func contractPatchNotFound(t *testing.T, b backend) {
	err := backendClient(t, b).PatchCard(context.Background(), b.ChatTemplate, "999999999",
		map[string][]Value{"chat_log": {String("x")}})
	if !errors.Is(err, ErrCardNotFound) {
		t.Fatalf("err = %v, want ErrCardNotFound", err)
	}
}

func contractGetNotFound(t *testing.T, b backend) {
	_, err := backendClient(t, b).GetCard(context.Background(), b.ChatTemplate, "999999999")
	if !errors.Is(err, ErrCardNotFound) {
		t.Fatalf("err = %v, want ErrCardNotFound", err)
	}
}

func contractCreate(t *testing.T, b backend) {
	ctx := context.Background()
	c := backendClient(t, b)
	key := Match{Attribute: "chat_session_id", Value: marker(t)}
	id, err := c.CreateCard(ctx, b.ChatTemplate, b.Folder, key, map[string][]Value{
		key.Attribute: {String(key.Value)}, "is_chat_active": {active}, "message_count": {Number(3)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		t.Fatalf("id = %q, want a number", id)
	}
	ids, err := c.FindCards(ctx, b.ChatTemplate, key)
	if err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("FindCards = %v, %v; want [%s]", ids, err, id)
	}
	card, err := c.GetCard(ctx, b.ChatTemplate, id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := card.First("message_count"); n != Number(3) {
		t.Errorf("message_count = %#v", n)
	}
}

func contractFindPersons(t *testing.T, b backend) {
	mark := strconv.FormatInt(time.Now().UnixNano(), 36)
	email := "O'Brien." + mark + "@Example.com"
	want := b.Seed(t, b.PersonTemplate, map[string][]Value{"email": {String(email)}})
	b.Seed(t, b.PersonTemplate, map[string][]Value{"email": {String("obrien." + mark + "@example.com")}})
	got, err := backendClient(t, b).FindPersons(context.Background(), b.PersonTemplate, "email",
		"  o'brien."+mark+"@EXAMPLE.com ")
	if err != nil || !slices.Equal(got, []string{want}) {
		t.Fatalf("FindPersons = %v, %v; want [%s]", got, err, want)
	}
}

func contractInjection(t *testing.T, b backend) {
	mark := strconv.FormatInt(time.Now().UnixNano(), 36)
	b.Seed(t, b.PersonTemplate, map[string][]Value{"email": {String("victim" + mark + "@example.com")}})
	c := backendClient(t, b)
	for _, email := range []string{
		"x' OR $email$ = 'victim" + mark + "@example.com",
		"x'' OR ''1''=''1",
		"victim" + mark + "@example.com' OR '1'='1",
		"$email$\nOR $email$ = 'victim" + mark + "@example.com",
	} {
		got, err := c.FindPersons(context.Background(), b.PersonTemplate, "email", email)
		if err != nil || len(got) != 0 {
			t.Errorf("FindPersons(%q) = %v, %v; want nothing", email, got, err)
		}
	}
}

func contractLoginRefused(t *testing.T, b backend) {
	b.Password = "wrong-" + b.Password
	_, err := backendClient(t, b).GetCard(context.Background(), b.ChatTemplate, "1")
	if !errors.Is(err, ErrLoginRefused) {
		t.Fatalf("err = %v, want ErrLoginRefused", err)
	}
	if strings.Contains(err.Error(), b.Password) {
		t.Errorf("error %q shows the password", err)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
