//go:build tools

// Package deps pins modules that packages adopt one by one, so that go.mod
// stays complete while the code that uses them is being written.
package deps

import (
	_ "github.com/go-co-op/gocron/v2"
	_ "github.com/hashicorp/go-retryablehttp"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/robfig/cron/v3"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/sync/singleflight"
	_ "golang.org/x/time/rate"
)
