package bench

import (
	"testing"
	"time"
)

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, time.Unix(0, 0).Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	tests := []struct {
		ts   []time.Time
		want int
	}{
		{nil, 0},
		{at(0), 1},
		{at(0, 999), 2},
		{at(0, 1000), 1}, // [t, t+1s) is half open
		{at(900, 0, 100, 1100, 1050), 3},
		{at(0, 10, 20, 990, 995, 2000), 5},
	}
	for _, tt := range tests {
		if got := maxInWindow(tt.ts, time.Second); got != tt.want {
			t.Errorf("maxInWindow(%v) = %d, want %d", tt.ts, got, tt.want)
		}
	}
}
