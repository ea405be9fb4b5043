package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestHelp_OnStdoutWhenAskedFor(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "-h"}} {
		r := run(t, args...)
		if r.code != exitOK || r.stderr != "" || !strings.Contains(r.stdout, "usage: syncworker COMMAND") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
		for _, h := range helps {
			if !strings.Contains(r.stdout, "  "+h.name+" ") {
				t.Errorf("%v: the overview lacks %s", args, h.name)
			}
		}
	}
	for _, h := range helps {
		for _, args := range [][]string{{h.name, "-h"}, {"help", h.name}} {
			if h.name == "help" && args[0] == "help" {
				continue
			}
			r := run(t, args...)
			if r.code != exitOK || r.stderr != "" {
				t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
			}
			for _, want := range []string{"usage: syncworker " + h.name, capitalise(h.purpose), "example:\n  " + h.example} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%v lacks %q:\n%s", args, want, r.stdout)
				}
			}
		}
	}
	r := run(t, "backfill", "-h")
	for _, want := range []string{"flags:", "-since string", "-until string", "-metrics-file", "-log-format"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("backfill -h lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestHelp_UsageErrorsOnStderrExit2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: syncworker COMMAND"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"once", "-frobnicate"}, "Run 'syncworker once -h' for its flags."},
		{[]string{"once", "-config", "a.yaml", "extra"}, `unexpected argument "extra"`},
		{[]string{"once"}, "-config is required"},
	} {
		r := run(t, tc.args...)
		if r.code != exitConfig || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing on stdout, %q on stderr",
				tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/syncworker/syncworker", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		p := &Program{readBuildInfo: func() (*debug.BuildInfo, bool) { return info, true }}
		r := runProgram(p, args)
		want := "syncworker v1.4.0\ncommit:  0123abcd (2026-11-01T10:00:00Z), with uncommitted changes\ngo:      go1.26.8 "
		if r.code != exitOK || !strings.HasPrefix(r.stdout, want) {
			t.Errorf("%v: exit %d, %q; want %q…", args, r.code, r.stdout, want)
		}
	}
	// The test binary's own build information: no VCS stamp, the real Go.
	r := run(t, "version")
	if r.code != exitOK || !strings.Contains(r.stdout, "go:      go1.") || !strings.Contains(r.stdout, "commit:  ") {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
}
