package genesys

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)

// at is t0 plus sec seconds, as the vendor writes it.
func at(sec int) string {
	return t0.Add(time.Duration(sec) * time.Second).Format("2006-01-02T15:04:05.000Z")
}

// part is a participant as JSON; times < 0 are absent.
func part(id, purpose, user string, start, connected, end int) string {
	fields := []string{fmt.Sprintf(`"id":%q,"purpose":%q,"name":%q`, id, purpose, strings.ToUpper(id))}
	if user != "" {
		fields = append(fields, fmt.Sprintf(`"userId":%q`, user))
	}
	for name, v := range map[string]int{"startTime": start, "connectedTime": connected, "endTime": end} {
		if v >= 0 {
			fields = append(fields, fmt.Sprintf(`%q:%q`, name, at(v)))
		}
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func conversationOf(t *testing.T, parts ...string) *wireConversation {
	t.Helper()
	body := `{"id":"c-1","startTime":"` + at(0) + `","participants":[` + strings.Join(parts, ",") + `]}`
	conv, err := decodeConversation([]byte(body), limits{now: t0.Add(time.Hour), maxText: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

// describeChats is live chats as "id@requested[agent@joined-left …]".
func describeChats(conv *wireConversation) string {
	var b strings.Builder
	sec := func(tm time.Time) string {
		if tm.IsZero() {
			return "-"
		}
		return fmt.Sprint(int(tm.Sub(t0) / time.Second))
	}
	for _, lc := range liveChats(conv) {
		fmt.Fprintf(&b, "%s@%s/%s/%s[", lc.ID, sec(lc.RequestedAt), sec(lc.ConnectedAt), sec(lc.EndedAt))
		for i, a := range lc.Agents {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s@%s-%s", strings.TrimPrefix(a.ID, userPrefix), sec(a.JoinedAt), sec(a.LeftAt))
		}
		b.WriteString("] ")
	}
	return strings.TrimSpace(b.String())
}

func TestLiveChats(t *testing.T) {
	t.Parallel()
	cust := part("cust", "customer", "", 0, 0, -1)
	bot := part("flow", "workflow", "", 0, 0, 10)
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"BotOnly", []string{cust, bot}, ""},
		{"QueuedNeverAnswered", []string{cust, bot, part("q1", "acd", "", 10, 10, 70)}, "q1@10/-/70[]"},
		{"Transfer", []string{cust, bot, part("q1", "acd", "", 10, 10, 20),
			part("ann", "agent", "u-ann", 15, 20, 30), part("carl", "agent", "u-carl", 30, -1, 35),
			part("bob", "agent", "u-bob", 31, 36, 90)},
			"q1@10/20/90[u-ann@20-30 u-bob@36-90]"},
		{"StillConnected", []string{cust, part("q1", "acd", "", 10, 10, 20),
			part("ann", "agent", "u-ann", 15, 20, -1)}, "q1@10/20/-[u-ann@20--]"},
		{"TwoQueueLegs", []string{cust, part("q1", "acd", "", 10, 10, 20), part("ann", "agent", "u-ann", 15, 20, 30),
			part("q2", "acd", "", 40, 40, 50), part("cara", "agent", "u-cara", 45, 50, 90)},
			"q1@10/20/30[u-ann@20-30] q2@40/50/90[u-cara@50-90]"},
		{"JoinAtSecondRequest", []string{cust, part("q1", "acd", "", 10, 10, 20), part("q2", "acd", "", 40, 40, 50),
			part("dan", "agent", "u-dan", 35, 40, 60)}, "q1@10/-/20[] q2@40/40/60[u-dan@40-60]"},
		{"ListedOutOfOrder", []string{cust, part("q2", "acd", "", 40, 40, 50), part("cara", "agent", "u-cara", 45, 50, 90),
			part("q1", "acd", "", 10, 10, 20), part("ann", "agent", "u-ann", 15, 20, 30)},
			"q1@10/20/30[u-ann@20-30] q2@40/50/90[u-cara@50-90]"},
		{"AgentBeforeAnyQueue", []string{cust, part("eve", "agent", "u-eve", 3, 5, 8), part("q1", "acd", "", 10, 10, 20),
			part("ann", "agent", "u-ann", 15, 20, 30)}, "eve@3/5/8[u-eve@5-8] q1@10/20/30[u-ann@20-30]"},
		{"AgentWithoutUser", []string{cust, part("q1", "acd", "", 10, 10, 20), part("ext", "agent", "", 15, 20, 30)},
			"q1@10/20/30[ext@20-30]"},
		{"SameInstantKeepsOrder", []string{cust, part("q1", "acd", "", 10, 10, 20),
			part("ann", "agent", "u-ann", 15, 20, 30), part("ben", "agent", "u-ben", 15, 20, 30)},
			"q1@10/20/30[u-ann@20-30 u-ben@20-30]"},
		{"OtherPurposesIgnored", []string{cust, part("ivr", "ivr", "", 1, 1, 2), part("vm", "voicemail", "u-x", 1, 1, 2)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeChats(conversationOf(t, tt.parts...)); got != tt.want {
				t.Errorf("live chats = %s\nwant         %s", got, tt.want)
			}
		})
	}
}

func TestListedIDs_OncePerIDEarliestTime(t *testing.T) {
	t.Parallel()
	var conv wireConversation
	err := json.Unmarshal([]byte(`{"id":"c","participants":[
		{"id":"cust","purpose":"customer","messages":[{"messages":[{"messageId":"m2","messageTime":"`+at(5)+`"},{"messageId":"m1","messageTime":"`+at(5)+`"}]}]},
		{"id":"ann","purpose":"agent","messages":[{"messages":[{"messageId":"m2","messageTime":"`+at(6)+`"}]},{"messages":[{"messageId":"m3","messageTime":"`+at(1)+`"}]}]}]}`), &conv)
	if err != nil {
		t.Fatal(err)
	}
	listed, owners := listedIDs(&conv)
	var got []string
	for _, l := range listed {
		got = append(got, fmt.Sprintf("%s@%d", l.ID, int(l.Time.Sub(t0)/time.Second)))
	}
	if strings.Join(got, " ") != "m3@1 m1@5 m2@5" {
		t.Errorf("listed %v, want m3@1 m1@5 m2@5: one entry per id, by (time, id)", got)
	}
	if len(owners["m2"]) != 1 || owners["m2"][0].ID != "ann" || len(owners["m1"]) != 0 {
		t.Errorf("owners: %v; want ann for m2 and no one but the customer for m1", owners)
	}
}
