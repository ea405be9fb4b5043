package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// commandHelp is what `syncworker help` and `syncworker COMMAND -h` say
// of one command.
type commandHelp struct {
	name     string
	synopsis string // the arguments after the name
	purpose  string // one line, for the overview
	detail   string // a few lines more, for the command's own help
	example  string
}

// helps lists the commands in the order the overview shows them.
var helps = []commandHelp{
	{name: "demo", synopsis: "[-platform P]",
		purpose: "one sync against the built-in sandbox, prints the cards",
		detail:  "Starts a fake chat platform and a fake ESM in-process, runs one pass into a\ntemporary state file and prints the cards it wrote. Needs no configuration.",
		example: "syncworker demo -platform superoffice"},
	{name: "once", synopsis: "-config FILE [-config FILE]",
		purpose: "one sync pass per tenant, then exit (cron / sidecar job)",
		detail:  "Runs one pass per tenant, the tenants side by side, and prints one summary\nline per tenant on stdout. Exit status: 0 ok, 1 some sessions failed,\n2 a tenant file is unusable, 3 fatal (login refused, API down, state held).",
		example: "syncworker once -config /etc/syncworker/tenants -metrics-file /var/lib/node_exporter/syncworker.prom"},
	{name: "run", synopsis: "-config FILE [-config FILE]",
		purpose: "long-running; each tenant on its own cron schedule",
		detail:  "Keeps every tenant on its own schedule until SIGINT or SIGTERM (exit 0).\nSIGHUP reloads the tenant files: added, removed and changed tenants take\neffect; a file that no longer loads keeps its old tenant running and is logged.",
		example: "syncworker run -config /etc/syncworker/tenants -listen 127.0.0.1:9090"},
	{name: "backfill", synopsis: "-config FILE -since DATE [-until DATE]",
		purpose: "sync every session of a time range, creating missing cards",
		detail:  "Lists the sessions the chat platform updated since -since (keeping those\nstarted before -until), creates the cards that are missing in esm.folder and\nwrites every card, ended sessions included. Shows progress on a terminal, a\nlog line every 30 s otherwise. Stop a `run` on the same state first.",
		example: "syncworker backfill -config acme.yaml -since 2024-05-01 -until 2024-06-01"},
	{name: "check", synopsis: "-config FILE",
		purpose: "validate config, log in, verify template and menu values",
		detail:  "Validates each tenant file, logs in to ESM, compares the templates with the\nconfiguration, asks the chat platform, and checks that the state file can be\ncreated and is not held by another process. Writes nothing to either API.",
		example: "syncworker check -config acme.yaml"},
	{name: "status", synopsis: "-config FILE [-format json]",
		purpose: "tracked / active / failing sessions, last runs",
		detail:  "Reads each tenant's state file read-only (it works beside a running `run`)\nand prints the schedule, the session counts, the failing sessions and the\nrecent runs; -format json prints the same as one JSON document.",
		example: "syncworker status -config /etc/syncworker/tenants -format json"},
	{name: "sandbox", synopsis: "-listen ADDR [-platform P]",
		purpose: "serve the fake chat platform + fake ESM",
		detail:  "Serves both fake APIs on one address, with generated or file-loaded sessions\nand optional latency, 5xx, 429 and broken bodies, and prints a tenant file.",
		example: "syncworker sandbox -listen 127.0.0.1:8080 -sessions 100 -error-share 0.05"},
	{name: "bench", synopsis: "[-platform P]",
		purpose: "measure sync passes against the sandbox (README, \"Performance\")",
		detail:  "Runs cold, warm and idle passes against an in-process sandbox and prints\nthe timings and request counts the README's performance table shows.",
		example: "syncworker bench -sessions 1000 -baseline 0 -memory ''"},
	{name: "version", synopsis: "",
		purpose: "version, commit and Go version of this build",
		detail:  "Prints the module version, the VCS revision and time it was built from, and\nthe Go version, from the build information. `syncworker -version` is the same.",
		example: "syncworker version"},
	{name: "help", synopsis: "[COMMAND]",
		purpose: "this overview, or a command's purpose, flags and an example",
		example: "syncworker help backfill"},
}

// helpOf returns the help of the command name.
func helpOf(name string) (commandHelp, bool) {
	for _, h := range helps {
		if h.name == name {
			return h, true
		}
	}
	return commandHelp{}, false
}

// writeUsage writes the overview of every command.
func writeUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: syncworker COMMAND [flags]")
	fmt.Fprintln(w)
	for _, h := range helps {
		fmt.Fprintf(w, "  %-9s %s\n", h.name, h.purpose)
	}
	fmt.Fprint(w, `
-config may name a directory: every *.yaml in it is one tenant; it may be repeated.
Every command takes -log-format text|json and -log-level debug|info|warn|error;
logs go to stderr.
Run 'syncworker help COMMAND' or 'syncworker COMMAND -h' for a command's flags.
`)
}

// writeCommandHelp writes name's purpose, its flags as fs defines them, and
// an example.
func writeCommandHelp(w io.Writer, h commandHelp, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: syncworker %s\n\n", strings.TrimSpace(h.name+" "+h.synopsis))
	fmt.Fprintln(w, capitalise(h.purpose)+".")
	if h.detail != "" {
		fmt.Fprintln(w, h.detail)
	}
	if fs != nil && hasFlags(fs) {
		fmt.Fprintln(w, "\nflags:")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	if h.example != "" {
		fmt.Fprintf(w, "\nexample:\n  %s\n", h.example)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
