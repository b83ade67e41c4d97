package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func testEnv(t *testing.T, container, tmpl string) (settings, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	out := &bytes.Buffer{}
	return settings{
		runDir:         dir,
		container:      container,
		terminationLog: filepath.Join(dir, "termination-log"),
		templateJSON:   tmpl,
		graceSeconds:   "2",
		stdout:         out,
		stderr:         out,
		stdin:          strings.NewReader(""),
	}, out
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data)
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 1", 1},
		{"exit 3", 3},
		{"kill -9 $$", 137},
		{"kill -15 $$", 143},
	} {
		env, _ := testEnv(t, "main", "")
		got := launch(env, []string{"--", "sh", "-c", tc.script})
		if got != tc.want {
			t.Errorf("%q: exit %d, want %d", tc.script, got, tc.want)
		}
		if code := read(t, filepath.Join(env.runDir, "ctr", "main", "exitcode")); code != strconv.Itoa(tc.want) {
			t.Errorf("%q: exitcode file %q", tc.script, code)
		}
	}
}

func TestStdoutAndCombined(t *testing.T) {
	env, out := testEnv(t, "main", "")
	code := launch(env, []string{"--", "sh", "-c", "echo out; echo err >&2; echo 'two  spaces' \"$0\"", "arg zero"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	ctr := filepath.Join(env.runDir, "ctr", "main")
	if got := read(t, filepath.Join(ctr, "stdout")); got != "out\ntwo  spaces arg zero\n" {
		t.Errorf("stdout %q", got)
	}
	combined := read(t, filepath.Join(ctr, "combined"))
	for _, want := range []string{"out\n", "err\n", "two  spaces arg zero\n"} {
		if !strings.Contains(combined, want) {
			t.Errorf("combined %q lacks %q", combined, want)
		}
	}
	if !strings.Contains(out.String(), "err") {
		t.Errorf("stderr not passed through: %q", out)
	}
}

func TestCannotStart(t *testing.T) {
	for _, cmd := range [][]string{{"--", "/no/such/program"}, {"--", "no-such-program-anywhere"}, {"--"}} {
		env, _ := testEnv(t, "main", "")
		if got := launch(env, cmd); got != launcherFailed {
			t.Errorf("%v: exit %d, want %d", cmd, got, launcherFailed)
		}
		if code := read(t, filepath.Join(env.runDir, "ctr", "main", "exitcode")); code != "64" {
			t.Errorf("%v: exitcode file %q", cmd, code)
		}
		msg := read(t, env.terminationLog)
		if len(cmd) > 1 && !strings.Contains(msg, cmd[1]) {
			t.Errorf("%v: termination log %q does not name the command", cmd, msg)
		}
	}
}

func TestNotExecutable(t *testing.T) {
	env, _ := testEnv(t, "main", "")
	file := filepath.Join(env.runDir, "data.txt")
	if err := os.WriteFile(file, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := launch(env, []string{"--", file}); got != launcherFailed {
		t.Errorf("exit %d", got)
	}
	if msg := read(t, env.terminationLog); !strings.Contains(msg, "permission denied") {
		t.Errorf("termination log %q", msg)
	}
}

func TestOutputsCopied(t *testing.T) {
	work := t.TempDir()
	tmpl := `{"outputs":{"parameters":[{"name":"p","valueFrom":{"path":"` + work + `/p.txt"}},
		{"name":"missing","valueFrom":{"path":"` + work + `/none"}}],
		"artifacts":[{"name":"d","path":"` + work + `/dir"},{"name":"f","path":"` + work + `/f.bin"}]}}`
	env, out := testEnv(t, "main", tmpl)
	script := "echo -n v > p.txt; mkdir -p dir/sub; echo a > dir/a; echo b > dir/sub/b; ln -s a dir/link; " +
		"printf 'x' > f.bin; chmod 0750 f.bin"
	if code := launch(env, []string{"--", "sh", "-c", "cd " + work + " && " + script}); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	base := filepath.Join(env.runDir, "outputs")
	if got := read(t, filepath.Join(base, "parameters", work, "p.txt")); got != "v" {
		t.Errorf("parameter %q", got)
	}
	if got := read(t, filepath.Join(base, "artifacts", work, "dir", "sub", "b")); got != "b\n" {
		t.Errorf("dir/sub/b %q", got)
	}
	if link, err := os.Readlink(filepath.Join(base, "artifacts", work, "dir", "link")); err != nil || link != "a" {
		t.Errorf("link %q %v", link, err)
	}
	info, err := os.Stat(filepath.Join(base, "artifacts", work, "f.bin"))
	if err != nil || info.Mode().Perm() != 0o750 {
		t.Errorf("f.bin mode %v %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(base, "parameters", work, "none")); !os.IsNotExist(err) {
		t.Errorf("missing output copied: %v", err)
	}
}

func TestOutputsOnMainsVolumesAreNotCopied(t *testing.T) {
	work := t.TempDir()
	vol := filepath.Join(work, "vol")
	tmpl := `{"container":{"volumeMounts":[{"name":"v","mountPath":"` + vol + `/"}]},
		"outputs":{"parameters":[{"name":"on","valueFrom":{"path":"` + vol + `/p"}},
		{"name":"off","valueFrom":{"path":"` + work + `/volume-not/p"}}],
		"artifacts":[{"name":"whole","path":"` + vol + `"}]}}`
	env, out := testEnv(t, "main", tmpl)
	script := "mkdir -p vol volume-not && echo -n a > vol/p && echo -n b > volume-not/p"
	if code := launch(env, []string{"--", "sh", "-c", "cd " + work + " && " + script}); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	base := filepath.Join(env.runDir, "outputs")
	for _, skipped := range []string{filepath.Join("parameters", vol, "p"), filepath.Join("artifacts", vol)} {
		if _, err := os.Stat(filepath.Join(base, skipped)); !os.IsNotExist(err) {
			t.Errorf("%s copied although it is on main's volume: %v", skipped, err)
		}
	}
	if got := read(t, filepath.Join(base, "parameters", work, "volume-not", "p")); got != "b" {
		t.Errorf("a path beside the volume (a shared prefix only) was not copied: %q", got)
	}
}

func TestContainerSetVolumesAreMains(t *testing.T) {
	tmpl := &template{}
	text := `{"containerSet":{"volumeMounts":[{"mountPath":"/workspace"}],
		"containers":[{"name":"a","volumeMounts":[{"mountPath":"/a-only"}]},
		{"name":"main","volumeMounts":[{"mountPath":"/m"}]}]}}`
	if err := json.Unmarshal([]byte(text), tmpl); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tmpl.mainVolumes(), " ")
	if got != "/workspace /m" {
		t.Errorf("main's volumes %q", got)
	}
	if !onVolume("/workspace/out", tmpl.mainVolumes()) || onVolume("/a-only/x", tmpl.mainVolumes()) {
		t.Errorf("onVolume")
	}
}

func TestOnlyMainCopiesOutputs(t *testing.T) {
	work := t.TempDir()
	tmpl := `{"outputs":{"parameters":[{"name":"p","valueFrom":{"path":"` + work + `/p"}}]}}`
	env, _ := testEnv(t, "other", tmpl)
	launch(env, []string{"--", "sh", "-c", "echo x > " + work + "/p"})
	if _, err := os.Stat(filepath.Join(env.runDir, "outputs")); !os.IsNotExist(err) {
		t.Errorf("a non-main container copied outputs")
	}
}

func TestContainerSetDependencies(t *testing.T) {
	tmpl := `{"containerSet":{"containers":[{"name":"a"},{"name":"b","dependencies":["a"]}]}}`
	envA, _ := testEnv(t, "a", tmpl)
	envB := envA
	envB.container = "b"
	started := make(chan int)
	go func() {
		started <- launch(envB, []string{"--", "cat", filepath.Join(envA.runDir, "ctr", "a", "stdout")})
	}()
	select {
	case code := <-started:
		t.Fatalf("b ran before a: exit %d", code)
	case <-time.After(300 * time.Millisecond):
	}
	if code := launch(envA, []string{"--", "sh", "-c", "echo from-a"}); code != 0 {
		t.Fatalf("a exit %d", code)
	}
	if code := <-started; code != 0 {
		t.Errorf("b exit %d", code)
	}
	if got := read(t, filepath.Join(envA.runDir, "ctr", "b", "stdout")); got != "from-a\n" {
		t.Errorf("b read %q", got)
	}

	failed, _ := testEnv(t, "a", tmpl)
	if code := launch(failed, []string{"--", "sh", "-c", "exit 2"}); code != 2 {
		t.Fatalf("a exit %d", code)
	}
	failed.container = "b"
	marker := filepath.Join(failed.runDir, "b-ran")
	if code := launch(failed, []string{"--", "touch", marker}); code != launcherFailed {
		t.Errorf("b after a failed: exit %d", code)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("b ran although a failed")
	}
	if msg := read(t, failed.terminationLog); !strings.Contains(msg, `dependency "a" exited with code 2`) {
		t.Errorf("message %q", msg)
	}
}

func TestSignalFileStopsTheCommand(t *testing.T) {
	env, _ := testEnv(t, "main", "")
	ctr := filepath.Join(env.runDir, "ctr", "main")
	go func() {
		for !fileExists(filepath.Join(ctr, "stdout")) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		_ = os.WriteFile(filepath.Join(ctr, "signal"), []byte("15"), 0o644)
	}()
	if got := launch(env, []string{"--", "sleep", "60"}); got != 143 {
		t.Errorf("exit %d, want 143", got)
	}
}

func TestDeadlineStopsTheCommand(t *testing.T) {
	env, out := testEnv(t, "main", "")
	env.deadline = time.Now().Add(500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	if got := launch(env, []string{"--", "sleep", "60"}); got != 143 {
		t.Errorf("exit %d, want 143", got)
	}
	if !strings.Contains(out.String(), "deadline") {
		t.Errorf("no deadline message: %q", out)
	}
}

func TestSidecarStopsWhenMainEnds(t *testing.T) {
	tmpl := `{"sidecars":[{"name":"side"}]}`
	env, _ := testEnv(t, "side", tmpl)
	main := filepath.Join(env.runDir, "ctr", "main")
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = os.MkdirAll(main, 0o777)
		_ = os.WriteFile(filepath.Join(main, "exitcode"), []byte("0"), 0o644)
	}()
	if got := launch(env, []string{"--", "sleep", "60"}); got != 143 {
		t.Errorf("exit %d, want 143", got)
	}
}

func TestGraceThenKill(t *testing.T) {
	env, _ := testEnv(t, "main", "")
	env.graceSeconds = "1"
	ctr := filepath.Join(env.runDir, "ctr", "main")
	go func() {
		for !fileExists(filepath.Join(ctr, "stdout")) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		_ = os.WriteFile(filepath.Join(ctr, "signal"), []byte("15"), 0o644)
	}()
	// The shell ignores SIGTERM; its child sleep does not, so wait on a loop of short sleeps.
	got := launch(env, []string{"--", "sh", "-c", "trap '' TERM; while :; do sleep 0.1 || :; done"})
	if got != 137 {
		t.Errorf("exit %d, want 137 (SIGKILL after the grace period)", got)
	}
}

func TestRunningLockIsHeldWhileTheCommandRuns(t *testing.T) {
	env, _ := testEnv(t, "main", "")
	running := filepath.Join(env.runDir, "ctr", "main", "running")
	done := make(chan int)
	go func() { done <- launch(env, []string{"--", "sleep", "1"}) }()
	for !fileExists(running) {
		time.Sleep(20 * time.Millisecond)
	}
	f, err := os.Open(running)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		t.Fatalf("the running file was not locked while the command ran")
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
