package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/loadgen"
	"gopkg.in/yaml.v3"
)

// The Kubernetes manifests in scripts/k8s must not rot: the Job stays an
// Indexed Job whose completions match FTPH_SHARDS, its args parse with
// ftpload's own flags, the ConfigMap's keys are variables ftpload reads,
// and every shard's settings settle (shares, target, report path) exactly
// as ftpload would settle them in the pod.

type k8sDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec yaml.Node         `yaml:"spec"`
	file string
}

type k8sContainer struct {
	Name            string   `yaml:"name"`
	Image           string   `yaml:"image"`
	ImagePullPolicy string   `yaml:"imagePullPolicy"`
	Command         []string `yaml:"command"`
	Args            []string `yaml:"args"`
	EnvFrom         []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type k8sPodSpec struct {
	RestartPolicy string         `yaml:"restartPolicy"`
	Containers    []k8sContainer `yaml:"containers"`
	Volumes       []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type k8sJobSpec struct {
	CompletionMode string `yaml:"completionMode"`
	Completions    *int   `yaml:"completions"`
	Parallelism    *int   `yaml:"parallelism"`
	Template       struct {
		Spec k8sPodSpec `yaml:"spec"`
	} `yaml:"template"`
}

func readManifests(t *testing.T) []*k8sDoc {
	t.Helper()
	files, err := filepath.Glob("../../scripts/k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in scripts/k8s: %v", err)
	}
	var docs []*k8sDoc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			d := &k8sDoc{file: filepath.Base(f)}
			if err := dec.Decode(d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if d.Kind == "" || d.APIVersion == "" || d.Metadata.Name == "" {
				t.Errorf("%s: a document without kind, apiVersion or name", f)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

func podSpecOf(t *testing.T, d *k8sDoc) *k8sPodSpec {
	t.Helper()
	var ps k8sPodSpec
	switch d.Kind {
	case "Pod":
		if err := d.Spec.Decode(&ps); err != nil {
			t.Fatalf("%s: %v", d.file, err)
		}
	case "Job", "Deployment":
		var s struct {
			Template struct {
				Spec k8sPodSpec `yaml:"spec"`
			} `yaml:"template"`
		}
		if err := d.Spec.Decode(&s); err != nil {
			t.Fatalf("%s: %v", d.file, err)
		}
		ps = s.Template.Spec
	default:
		return nil
	}
	return &ps
}

func TestK8sManifests(t *testing.T) {
	docs := readManifests(t)
	find := func(kind, name string) *k8sDoc {
		for _, d := range docs {
			if d.Kind == kind && (name == "" || d.Metadata.Name == name) {
				return d
			}
		}
		t.Fatalf("no %s %s in scripts/k8s", kind, name)
		return nil
	}
	pvcs := map[string]bool{}
	for _, d := range docs {
		if d.Kind == "PersistentVolumeClaim" {
			pvcs[d.Metadata.Name] = true
		}
	}

	// every image: an ftpharness image loaded into the cluster, no registry host
	for _, d := range docs {
		ps := podSpecOf(t, d)
		if ps == nil {
			continue
		}
		for _, c := range ps.Containers {
			first, _, _ := strings.Cut(c.Image, "/")
			if !strings.HasPrefix(c.Image, "ftpharness/") || strings.ContainsAny(first, ".:") || first == "localhost" {
				t.Errorf("%s: %s: image %q: want an ftpharness/ image and no registry host", d.file, d.Metadata.Name, c.Image)
			}
			if c.ImagePullPolicy != "Never" {
				t.Errorf("%s: %s: imagePullPolicy %q, want Never (images are loaded, never pulled)", d.file, d.Metadata.Name, c.ImagePullPolicy)
			}
		}
		for _, v := range ps.Volumes {
			if v.PersistentVolumeClaim != nil && !pvcs[v.PersistentVolumeClaim.ClaimName] {
				t.Errorf("%s: volume %s claims %q, which no manifest defines", d.file, v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		}
	}

	job := find("Job", "")
	if job.APIVersion != "batch/v1" {
		t.Errorf("Job apiVersion %q", job.APIVersion)
	}
	if b, _ := os.ReadFile("../../scripts/k8s/" + job.file); !strings.Contains(string(b), "scripts/build-images") || !strings.Contains(string(b), "kind load") {
		t.Errorf("%s does not say the image is built with scripts/build-images and loaded with kind load", job.file)
	}
	var js k8sJobSpec
	if err := job.Spec.Decode(&js); err != nil {
		t.Fatal(err)
	}
	if js.CompletionMode != "Indexed" || js.Completions == nil || js.Parallelism == nil {
		t.Fatalf("Job: completionMode %q, completions %s, parallelism %s: want an Indexed Job with both set", js.CompletionMode, intPtr(js.Completions), intPtr(js.Parallelism))
	}
	n := *js.Completions
	if n != 4 || *js.Parallelism != n {
		t.Errorf("Job: completions %d, parallelism %d: want 4 and 4", n, *js.Parallelism)
	}
	ps := js.Template.Spec
	if ps.RestartPolicy != "Never" && ps.RestartPolicy != "OnFailure" {
		t.Errorf("Job restartPolicy %q", ps.RestartPolicy)
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("Job: %d containers, want 1", len(ps.Containers))
	}
	c := ps.Containers[0]
	if c.Image != "ftpharness/harness:latest" {
		t.Errorf("Job image %q, want ftpharness/harness:latest", c.Image)
	}
	for _, e := range c.Env {
		if e.Name == loadgen.EnvShardIndex && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
			e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']") {
			t.Errorf("%s must come from the job-completion-index annotation (or be left to Kubernetes)", loadgen.EnvShardIndex)
		}
	}
	// ftpharness-entry: `load SCENARIO flags...` runs `ftpload SCENARIO flags...`
	if len(c.Args) < 2 || c.Args[0] != "load" || !slices.Contains(loadgen.Scenarios, c.Args[1]) {
		t.Fatalf("Job args %q: want [load SCENARIO flags...] (scenarios %v)", c.Args, loadgen.Scenarios)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil {
		t.Fatalf("Job envFrom %+v: want one configMapRef", c.EnvFrom)
	}
	cm := find("ConfigMap", c.EnvFrom[0].ConfigMapRef.Name)

	// the ConfigMap's keys are variables ftpload reads
	known := envVars()
	for k := range cm.Data {
		if !slices.Contains(known, k) {
			t.Errorf("ConfigMap %s: key %s is no variable ftpload reads (%s)", cm.Metadata.Name, k, strings.Join(known, " "))
		}
	}
	if got, err := strconv.Atoi(cm.Data[loadgen.EnvShards]); err != nil || got != n {
		t.Errorf("ConfigMap %s=%q, want the Job's completions %d", loadgen.EnvShards, cm.Data[loadgen.EnvShards], n)
	}

	// each pod's ftpload settles its shard from the args and the environment
	old := getenv
	defer func() { getenv = old }()
	scenario := c.Args[1]
	var paths []string
	var sessions int
	for i := 0; i < n; i++ {
		env := map[string]string{loadgen.EnvShardIndex: strconv.Itoa(i)}
		for k, v := range cm.Data {
			env[k] = v
		}
		getenv = func(k string) string { return env[k] }
		var cfg config
		fs := flags(&cfg, scenario)
		if err := parseFlags(fs, &cfg, c.Args[2:]); err != nil {
			t.Fatalf("shard %d: args %q: %v", i, c.Args[2:], err)
		}
		if fs.NArg() > 0 {
			t.Fatalf("shard %d: unexpected argument %q", i, fs.Arg(0))
		}
		p, err := settle(scenario, &cfg)
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		if p.shard != (loadgen.Shard{Index: i, Count: n}) {
			t.Errorf("pod %d settles shard %v", i, p.shard)
		}
		if cfg.target == "" {
			t.Errorf("shard %d: no target (a sharded run needs one)", i)
		}
		a := loadgen.NewAttacker(p.tgt, p.opts...)
		sessions += a.Settings(scenario).Sessions
		// the report goes to a mounted volume, one file per shard
		onVolume := false
		for _, m := range c.VolumeMounts {
			onVolume = onVolume || strings.HasPrefix(p.jsonOut, strings.TrimSuffix(m.MountPath, "/")+"/")
		}
		if p.jsonOut == "" || !onVolume {
			t.Errorf("shard %d: report %q is not on a mounted volume %+v", i, p.jsonOut, c.VolumeMounts)
		}
		paths = append(paths, p.jsonOut)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(paths)))) != n {
		t.Errorf("shards share report files: %v", paths)
	}
	if want, _ := strconv.Atoi(cm.Data[envName("sessions")]); want > 0 && sessions != want {
		t.Errorf("the shards' sessions add up to %d, want %d", sessions, want)
	}

	// the reports pod mounts the Job's claim
	var jobClaim string
	for _, v := range ps.Volumes {
		if v.PersistentVolumeClaim != nil {
			jobClaim = v.PersistentVolumeClaim.ClaimName
		}
	}
	reader := find("Pod", "ftpload-reports")
	rps := podSpecOf(t, reader)
	if len(rps.Volumes) != 1 || rps.Volumes[0].PersistentVolumeClaim == nil || rps.Volumes[0].PersistentVolumeClaim.ClaimName != jobClaim || jobClaim == "" {
		t.Errorf("reports pod volumes %+v, want the Job's claim %q", rps.Volumes, jobClaim)
	}
	// the README shows how to run and merge
	b, err := os.ReadFile("../../scripts/k8s/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kubectl apply", "kubectl cp", "ftpload merge", "kind load"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("scripts/k8s/README.md does not mention %q", want)
		}
	}
}

func intPtr(p *int) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(*p)
}
