package matrix

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// job is one run with the options of its server's plan.
type job struct {
	o MutationOptions
	r *MutationRun
}

// runPlans runs the runs of every plan, parallel at a time (default 2):
// the plans' runs interleaved, the slow faults first, then the whole-suite
// clean runs, so that the last to finish are short; a run's error is kept
// in it.
func runPlans(ctx context.Context, plans []*mutationPlan, parallel int) {
	if parallel < 1 {
		parallel = 2
	}
	var jobs []job
	for i := 0; ; i++ {
		added := false
		for _, p := range plans {
			if i < len(p.runs) {
				jobs = append(jobs, job{p.o, p.runs[i]})
				added = true
			}
		}
		if !added {
			break
		}
	}
	runJobs(ctx, jobs, parallel)
}

// runJobs runs jobs, parallel at a time, slow ones first (runRank).
func runJobs(ctx context.Context, jobs []job, parallel int) {
	sort.SliceStable(jobs, func(i, j int) bool { return runRank(jobs[i].r) > runRank(jobs[j].r) })
	queue := make(chan job, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				j.o.runReporting(ctx, j.r)
			}
		}()
	}
	wg.Wait()
}

// runRank orders the runs: the slow faults and the whole-suite clean
// runs (slowFaults), then the rest.
func runRank(r *MutationRun) int {
	if n, ok := slowFaults[r.Fault]; ok {
		return n
	}
	if r.Fault == "" && r.Filter == "" && r.Focus == "" {
		return 55
	}
	return 0
}

// runReporting runs r, telling o.Progress when it starts and ends.
func (o MutationOptions) runReporting(ctx context.Context, r *MutationRun) {
	if ctx.Err() != nil {
		r.Error = ctx.Err().Error()
		return
	}
	name := r.Name
	if o.Server != "" {
		name = o.Server + "/" + r.Name
	}
	if o.Progress != nil {
		o.Progress(name, "start")
	}
	err := o.runOnce(ctx, r)
	if err != nil && ctx.Err() == nil {
		// a run that gave no verdicts (the server or proxy did not start,
		// ftpconform's login probe got no answer within a 2 s timeout on a
		// loaded machine) says nothing of the fault: run it once more
		if o.Progress != nil {
			o.Progress(name, fmt.Sprintf("error after %.1fs, running again: %v", r.Seconds, err))
		}
		err = o.runOnce(ctx, r)
	}
	if err != nil {
		r.Error = err.Error()
	}
	if o.Progress != nil {
		ev := fmt.Sprintf("done in %.1fs", r.Seconds)
		if err != nil {
			ev = "error: " + err.Error()
		}
		o.Progress(name, ev)
	}
}

// runOnce runs r with o's runner (a test's) or the real one.
func (o MutationOptions) runOnce(ctx context.Context, r *MutationRun) error {
	if o.runner != nil {
		return o.runner(ctx, o, r)
	}
	return o.run(ctx, r)
}
