package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers/sink"
)

// BenchmarkChurnSink measures passive cycles per second against the
// in-process sink (generator and sink share the machine): the generator's
// own ceiling. Reported as cycles/s.
func BenchmarkChurnSink(b *testing.B) {
	for _, sessions := range []int{4, 16} {
		b.Run("sessions="+itoa(sessions), func(b *testing.B) {
			_, pr := freeRange(b, 1024)
			_, tg := startSink(b, sink.Options{PasvMin: pr.Lo, PasvMax: pr.Hi})
			a := NewAttacker(tg, WithSessions(sessions), WithCount(b.N), WithDuration(time.Hour), WithPasvRange(pr))
			if err := a.Prepare(context.Background(), Churn); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			t0 := time.Now()
			ch, _ := a.Attack(context.Background(), Churn)
			errs := 0
			for r := range ch {
				if !r.OK() {
					errs++
				}
			}
			el := time.Since(t0)
			b.ReportMetric(float64(b.N)/el.Seconds(), "cycles/s")
			if errs > 0 {
				b.Errorf("%d errors", errs)
			}
		})
	}
}
