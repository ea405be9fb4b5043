package config

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_NextRunAndInterval(t *testing.T) {
	for _, tt := range []struct {
		schedule string
		after    time.Time
		next     time.Time
		interval time.Duration
	}{
		{"*/5 * * * *", time.Date(2024, 6, 3, 9, 1, 0, 0, time.UTC), time.Date(2024, 6, 3, 9, 5, 0, 0, time.UTC), 5 * time.Minute},
		{"*/30 * * * * *", time.Date(2024, 6, 3, 9, 0, 10, 0, time.UTC), time.Date(2024, 6, 3, 9, 0, 30, 0, time.UTC), 30 * time.Second},
		// 07:00 in Helsinki is 04:00 UTC in summer.
		{"CRON_TZ=Europe/Helsinki 0 7 * * *", time.Date(2024, 6, 3, 5, 0, 0, 0, time.UTC), time.Date(2024, 6, 4, 4, 0, 0, 0, time.UTC), 24 * time.Hour},
	} {
		yaml := strings.Replace(minimal, `schedule: "*/5 * * * *"`, `schedule: "`+tt.schedule+`"`, 1)
		c := mustParse(t, yaml)
		if got := c.NextRun(tt.after); !got.Equal(tt.next) {
			t.Errorf("%s: NextRun(%v) = %v, want %v", tt.schedule, tt.after, got, tt.next)
		}
		if got := c.Interval(tt.after); got != tt.interval {
			t.Errorf("%s: Interval = %v, want %v", tt.schedule, got, tt.interval)
		}
	}
}
