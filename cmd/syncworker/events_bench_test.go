package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/aggregate"
	"github.com/syncworker/syncworker/internal/sandbox"
	"github.com/syncworker/syncworker/internal/source/ccai"
	"github.com/syncworker/syncworker/internal/state"
)

// Benchmarks of the CCAI Platform event path (README, "Performance"). Run
// them once each:
//
//	go test ./cmd/syncworker -run '^$' -bench CCAI -benchtime 1x
//
// Both run the real `run -listen` in this process against the sandbox,
// with 20 ms added to every ESM request.

const (
	benchChats      = 50
	benchAgents     = 20
	benchEventsEach = 20 // events per chat: 1,000 in all
)

// ccaiBench is a CCAI tenant served by an in-process run -listen.
type ccaiBench struct {
	sb    *sandbox.Server
	addr  string
	cards []string // card id of each chat
	ids   []string // domain id of each chat
	state string
	stop  func() int
}

func newCCAIBench(b *testing.B) *ccaiBench {
	b.Helper()
	sb := sandbox.New(sandbox.Options{Platform: sandbox.PlatformCCAI, TranscriptsDir: b.TempDir(),
		ChatToken: sandboxChatToken, Login: sandboxLogin, Password: sandboxPassword, RequestLogSize: -1})
	srv := httptest.NewServer(sb)
	b.Cleanup(srv.Close)
	sbAddr := strings.TrimPrefix(srv.URL, "http://")
	sb.SetFaults(sandbox.Faults{ESM: sandbox.Fault{Latency: 20 * time.Millisecond}})
	for a := range benchAgents {
		if _, err := sb.AddPerson(agentName(a), agentEmail(a)); err != nil {
			b.Fatal(err)
		}
	}
	cb := &ccaiBench{sb: sb}
	start := time.Now().UTC().Add(-time.Hour)
	for i := range benchChats {
		id := fmt.Sprintf("ws-%03d", i)
		sess := aggregate.Session{ID: id, StartedAt: start, Customer: aggregate.Customer{ID: "u", Name: "Maija", Email: "maija@example.com"},
			LiveChats: []aggregate.LiveChat{{ID: "lc", RequestedAt: start}}}
		card, err := sb.AddCase(sess, nil)
		if err != nil {
			b.Fatal(err)
		}
		cb.cards, cb.ids = append(cb.cards, card), append(cb.ids, id)
	}
	dir := b.TempDir()
	cb.state = filepath.Join(dir, "bench.db")
	yaml := sandboxConfigWith("bench", sbAddr, cb.state, sb.ChatConfig("http://"+sbAddr))
	yaml = strings.Replace(yaml, `"* * * * *"`, `"0 0 1 1 *"`, 1) + "sync:\n  concurrency: 8\n"
	file := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(file, noCeilings([]byte(yaml)), 0o600); err != nil {
		b.Fatal(err)
	}
	out := &lockedBuffer{}
	stop := make(chan struct{})
	ready, done := make(chan string, 1), make(chan int, 1)
	p := &Program{Stdout: out, Stderr: &lockedBuffer{}, Listening: func(a string) { ready <- a }}
	go func() {
		done <- p.Run(context.Background(), stop, []string{"run", "-listen", "127.0.0.1:0", "-log-level", "error", "-config", file})
	}()
	cb.addr = <-ready
	var once sync.Once
	cb.stop = func() int {
		code := 0
		once.Do(func() { close(stop); code = <-done })
		return code
	}
	b.Cleanup(func() { cb.stop() })
	for !strings.Contains(out.String(), "tenant=bench") {
		time.Sleep(10 * time.Millisecond)
	}
	sb.CCAI().SetWebhook("http://"+cb.addr+"/events/ccai/bench", "")
	return cb
}

func agentName(a int) string  { return fmt.Sprintf("Agent %02d", a) }
func agentEmail(a int) string { return fmt.Sprintf("agent%02d@example.com", a) }

// BenchmarkCCAI_EventToCard measures the time from an event being sent to
// the card being written: each of 50 chats gets 20 agents in turn, each
// joining in one signed event (posted by the fake when the chat store
// changes), and the time until the card names that agent as its support
// person is taken. The chats run side by side, 1,000 events in all.
func BenchmarkCCAI_EventToCard(b *testing.B) {
	cb := newCCAIBench(b)
	persons := map[string]string{}
	for a := range benchAgents {
		persons[agentEmail(a)], _ = cb.sb.AddPerson(agentName(a), agentEmail(a))
	}
	attr := cb.sb.Options().Attributes.SupportPerson
	var (
		mu        sync.Mutex
		latencies []time.Duration
	)
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for i := range benchChats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range benchEventsEach {
				a := (i + k) % benchAgents
				joined := time.Now().UTC()
				sent := time.Now()
				err := cb.sb.UpdateSession(cb.ids[i], func(s *aggregate.Session) {
					lc := &s.LiveChats[0]
					if lc.ConnectedAt.IsZero() {
						lc.ConnectedAt = joined
					}
					lc.Agents = append(lc.Agents, aggregate.Agent{ID: "a", Name: agentName(a), Email: agentEmail(a),
						JoinedAt: joined.Add(time.Duration(k) * time.Second)})
				})
				if err != nil {
					b.Error(err)
					return
				}
				for {
					if c, ok := cb.sb.Card(cb.cards[i]); ok && c.Ref(attr) == persons[agentEmail(a)] {
						break
					}
					if time.Since(sent) > 30*time.Second {
						b.Errorf("chat %d: event %d never reached its card", i, k)
						return
					}
					time.Sleep(time.Millisecond)
				}
				mu.Lock()
				latencies = append(latencies, time.Since(sent))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	slices.Sort(latencies)
	if len(latencies) == 0 {
		b.Fatal("no event reached its card")
	}
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	b.ReportMetric(float64(len(latencies)), "events")
	b.ReportMetric(float64(pct(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(pct(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(latencies[len(latencies)-1].Milliseconds()), "max-ms")
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "events/s")
	if st := cb.sb.CCAI().Stats(); st.Failed != 0 {
		b.Errorf("webhook stats %+v", st)
	}
}

// BenchmarkCCAI_Burst posts 10,000 distinct signed events for 1,000 chats
// (the 50 with cards among them) as fast as 8 senders can, counts the 202s
// and, once run has stopped, the events in the state file, and samples the
// heap meanwhile.
func BenchmarkCCAI_Burst(b *testing.B) {
	const events, chats, senders = 10000, 1000, 8
	cb := newCCAIBench(b)
	var accepted, other atomic.Int64
	var peak atomic.Uint64
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	sampling := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-sampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	url := "http://" + cb.addr + "/events/ccai/bench"
	base := time.Now().Unix()
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < events; n += senders {
				chat := n%chats + 1
				body := fmt.Sprintf(`{"type":"ChatState","item":{"chat_id":%d,"state":"connected","timestamp":%d,"participants":[{"type":"external","state":"connected","dn":"end_user_5"},{"type":"agent","state":"connected","dn":"agent_%d","name":"%s"}]}}`,
					chat, base-int64(events-n), n%benchAgents+1, agentName(n%benchAgents))
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
				req.Header.Set(ccai.HeaderTimestamp, ts)
				req.Header.Set(ccai.HeaderSignature, hex.EncodeToString(ccai.Sign([]byte(sandbox.CCAIEventsSecret), ts, []byte(body))))
				resp, err := client.Do(req)
				if err == nil && resp.StatusCode == http.StatusAccepted {
					accepted.Add(1)
				} else {
					other.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	close(sampling)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	after := ms.HeapInuse
	if code := cb.stop(); code != exitOK {
		b.Errorf("run exited %d", code)
	}
	st, err := state.Open(cb.state)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	stored, err := st.CountEvents(context.Background(), ccai.Namespace)
	if err != nil {
		b.Fatal(err)
	}
	// The fake's own events from the set-up are stored too.
	b.ReportMetric(float64(accepted.Load()), "accepted")
	b.ReportMetric(float64(other.Load()), "refused")
	b.ReportMetric(float64(stored), "stored")
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(before)/(1<<20), "heap-before-MiB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "heap-peak-MiB")
	b.ReportMetric(float64(after)/(1<<20), "heap-after-MiB")
	if accepted.Load() != events || stored < events {
		b.Errorf("%d of %d events accepted, %d stored: some were lost", accepted.Load(), events, stored)
	}
}
