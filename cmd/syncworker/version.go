package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// versionCmd prints what the build information says of this binary.
type versionCmd struct{ p *Program }

func (c *versionCmd) flags(*flag.FlagSet) {}

func (c *versionCmd) run(context.Context, <-chan struct{}) error {
	writeVersion(c.p.Stdout, c.p.readBuildInfo)
	return nil
}

// writeVersion prints the module version, the VCS revision and time with
// whether the tree was modified, and the Go version, as read by info (nil
// is runtime/debug.ReadBuildInfo).
func writeVersion(w io.Writer, info func() (*debug.BuildInfo, bool)) {
	if info == nil {
		info = debug.ReadBuildInfo
	}
	version, goVersion := "unknown", runtime.Version()
	var revision, at, modified string
	if bi, ok := info(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	fmt.Fprintf(w, "syncworker %s\n", version)
	switch {
	case revision == "":
		fmt.Fprintln(w, "commit:  unknown (built without VCS information, e.g. go run or -buildvcs=false)")
	default:
		line := "commit:  " + revision
		if at != "" {
			line += " (" + at + ")"
		}
		if modified == "true" {
			line += ", with uncommitted changes"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "go:      %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
}
