package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// demoCmd runs one pass against an in-process sandbox and prints the cards.
type demoCmd struct {
	p        *Program
	platform string
}

func (c *demoCmd) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.platform, "platform", sandbox.PlatformGeneric, "chat platform to fake: "+strings.Join(sandbox.Platforms(), ", "))
}

func (c *demoCmd) run(ctx context.Context, stop <-chan struct{}) error {
	if err := sandbox.CheckPlatform(c.platform); err != nil {
		return withCode(exitConfig, fmt.Errorf("-platform: %w", err))
	}
	// Where the CCAI Platform fake drops its transcripts.
	transcripts, err := os.MkdirTemp("", "syncworker-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(transcripts)
	sb := sandbox.New(sandbox.Options{Platform: c.platform, ChatToken: sandboxChatToken, Login: sandboxLogin,
		Password: sandboxPassword, TranscriptsDir: transcripts})
	for _, dc := range demoCases(c.p.Now()) {
		if _, err := sb.AddCase(dc.session, dc.messages); err != nil {
			return err
		}
	}
	local, err := serveLocal(sb)
	if err != nil {
		return err
	}
	defer local.Close()
	cfg, err := local.tenant("demo", "timezone: Europe/Helsinki\n")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.p.Stdout, "Sandbox: %d chat sessions, each with an empty card made the way createChatSession makes it.\n", len(sb.SessionCards()))
	fmt.Fprintf(c.p.Stdout, "One sync pass (state in a temporary SQLite file):\n\n")
	t, err := c.p.openTenant(ctx, cfg, opening{})
	if err != nil {
		return err
	}
	defer t.Close()
	sum, err := t.engine.Pass(ctx, stop)
	fmt.Fprintf(c.p.Stdout, "  %s\n\n", sum)
	if err != nil {
		return err
	}
	printCards(c.p.Stdout, sb, cfg)
	if sum.Failed > 0 {
		return withCode(exitPartial, errors.New("some sessions failed"))
	}
	return nil
}

// printCards prints every chat-session card of sb as a table, people by
// name, then each card's chat log.
func printCards(w io.Writer, sb *sandbox.Server, cfg *config.Config) {
	a := cfg.ESM.Attributes
	name := func(id string) string {
		if p, ok := sb.Card(id); ok {
			return p.Text(sb.Options().PersonName)
		}
		return "#" + id
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tACTIVE\tMESSAGES\tFIRST REPLY\tSTART (UTC)\tEND (UTC)\tCUSTOMER\tSUPPORT PERSON\tMEMBERS")
	cards := sb.SessionCards()
	slices.SortFunc(cards, func(x, y sandbox.Card) int { return strings.Compare(x.Text(a.SessionID), y.Text(a.SessionID)) })
	for _, c := range cards {
		var members []string
		for _, id := range c.Refs(a.Members) {
			members = append(members, name(id))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			c.Text(a.SessionID), c.Text(a.Active), orDash(c.Text(a.MessageCount)), seconds(c, a.FirstReplyWait),
			clock(c, a.StartTime), clock(c, a.EndTime), refName(c.Ref(a.Customer), name), refName(c.Ref(a.SupportPerson), name),
			orDash(strings.Join(members, ", ")))
	}
	tw.Flush()
	for _, c := range cards {
		fmt.Fprintf(w, "\nchat log of %s (times in %s):\n", c.Text(a.SessionID), cfg.Timezone)
		for _, line := range strings.Split(c.Text(a.ChatLog), "\n") {
			fmt.Fprintf(w, "  | %s\n", line)
		}
	}
}

func seconds(c sandbox.Card, attr string) string {
	if n, ok := c.Number(attr); ok {
		return strconv.FormatFloat(n, 'f', -1, 64) + " s"
	}
	return "-"
}

func clock(c sandbox.Card, attr string) string {
	if t, ok := c.Time(attr); ok {
		return t.UTC().Format("2006-01-02 15:04")
	}
	return "-"
}

func refName(id string, name func(string) string) string {
	if id == "" {
		return "-"
	}
	return name(id)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
