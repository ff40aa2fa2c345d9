package loadgen

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

// Shard is this process's part of a run split over several generators
// (a Kubernetes Indexed Job, or processes started by hand): shard Index
// of Count, 0-based. The zero Shard is an unsharded run.
//
// A shard takes a disjoint share of the run: its sessions, count and rate
// are the totals divided by Count with the remainders given to the lowest
// indices (so the shares add up to the totals exactly), its source
// addresses a contiguous, disjoint slice of the configured list, and its
// random seed the base seed plus its index.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Sharded reports whether s splits a run (a 1/1 shard does not, but is
// still recorded).
func (s Shard) Sharded() bool { return s.Count > 1 }

// Set reports whether s was given at all.
func (s Shard) Set() bool { return s.Count > 0 }

func (s Shard) String() string {
	if !s.Set() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Validate checks 0 <= Index < Count.
func (s Shard) Validate() error {
	if !s.Set() {
		return nil
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard index %d out of range 0..%d", s.Index, s.Count-1)
	}
	return nil
}

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(v), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 {
		return Shard{}, fmt.Errorf("bad shard %q (want INDEX/COUNT, e.g. 0/4)", v)
	}
	s := Shard{i, n}
	return s, s.Validate()
}

// Share is shard s's part of total: total/Count, plus one for the
// total%Count lowest indices. The shares of all shards add up to total.
func (s Shard) Share(total int) int {
	if !s.Set() {
		return total
	}
	q, r := total/s.Count, total%s.Count
	if s.Index < r {
		q++
	}
	return q
}

// Offset is the sum of the shares of the shards below s: where s's part
// of 0..total-1 starts.
func (s Shard) Offset(total int) int {
	if !s.Set() {
		return 0
	}
	q, r := total/s.Count, total%s.Count
	return s.Index*q + min(s.Index, r)
}

// ShareRate is shard s's part of an open-loop rate. A rate given in whole
// operations per second is split like Share (whole numbers, remainders to
// the lowest indices); a fractional one is divided evenly.
func (s Shard) ShareRate(total float64) float64 {
	if !s.Set() || total <= 0 {
		return total
	}
	if total == math.Trunc(total) && total < 1<<53 {
		t := int64(total)
		q, r := t/int64(s.Count), t%int64(s.Count)
		if int64(s.Index) < r {
			q++
		}
		return float64(q)
	}
	return total / float64(s.Count)
}

// Sources is shard s's slice of the configured source addresses: a
// contiguous block, disjoint from every other shard's (sizes as Share).
// No addresses configured gives none; fewer addresses than shards is an
// error (two shards would bind the same source).
func (s Shard) Sources(ips []net.IP) ([]net.IP, error) {
	if !s.Set() || len(ips) == 0 {
		return ips, nil
	}
	if len(ips) < s.Count {
		return nil, fmt.Errorf("%d source addresses cannot be split over %d shards (want at least one each)", len(ips), s.Count)
	}
	off := s.Offset(len(ips))
	return ips[off : off+s.Share(len(ips))], nil
}

// Seed is shard s's random seed: base + Index.
func (s Shard) Seed(base uint64) uint64 { return base + uint64(max(s.Index, 0)) }

// Shard environment variables: the index Kubernetes gives each pod of an
// Indexed Job, and the shard count (FTPH_SHARDS, else JOB_COMPLETIONS,
// which a manifest may set to its completions).
const (
	EnvShardIndex  = "JOB_COMPLETION_INDEX"
	EnvShards      = "FTPH_SHARDS"
	EnvCompletions = "JOB_COMPLETIONS"
)

// ShardFromEnv derives the shard from the environment (getenv is
// os.Getenv in real use): the index from JOB_COMPLETION_INDEX, the count
// from shards when it is positive (a --shards flag), else FTPH_SHARDS,
// else JOB_COMPLETIONS. Neither index nor count: the zero Shard
// (unsharded). A count of 1 without an index is shard 0/1; a larger count
// without an index is an error (every process would take shard 0), and so
// is an index without a count.
func ShardFromEnv(getenv func(string) string, shards int) (Shard, error) {
	idxS := strings.TrimSpace(getenv(EnvShardIndex))
	countSrc := "--shards"
	if shards <= 0 {
		for _, k := range []string{EnvShards, EnvCompletions} {
			if v := strings.TrimSpace(getenv(k)); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return Shard{}, fmt.Errorf("%s=%q: want a positive shard count", k, v)
				}
				shards, countSrc = n, k
				break
			}
		}
	}
	switch {
	case idxS == "" && shards <= 0:
		return Shard{}, nil
	case idxS == "" && shards == 1:
		return Shard{0, 1}, nil
	case idxS == "":
		return Shard{}, fmt.Errorf("%s gives %d shards but %s is not set: which shard is this? (use --shard INDEX/COUNT)", countSrc, shards, EnvShardIndex)
	case shards <= 0:
		return Shard{}, fmt.Errorf("%s=%s but no shard count: set %s (or --shards N)", EnvShardIndex, idxS, EnvShards)
	}
	i, err := strconv.Atoi(idxS)
	if err != nil {
		return Shard{}, fmt.Errorf("%s=%q: want a number", EnvShardIndex, idxS)
	}
	s := Shard{i, shards}
	if err := s.Validate(); err != nil {
		return Shard{}, fmt.Errorf("%s=%d with %d shards (%s): %v", EnvShardIndex, i, shards, countSrc, err)
	}
	return s, nil
}
