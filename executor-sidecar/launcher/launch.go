package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type settings struct {
	runDir         string
	container      string
	deadline       string
	terminationLog string
	templateJSON   string
	graceSeconds   string
	stdout         io.Writer
	stderr         io.Writer
	stdin          io.Reader
}

// ctrDir is /var/run/argo/ctr/<name>: what this container tells `wait` and its siblings.
type ctrDir struct {
	path string
	mu   sync.Mutex // stdout and stderr both append to combined
	comb *os.File
}

func openCtr(runDir, name string) (*ctrDir, error) {
	path := filepath.Join(runDir, "ctr", name)
	if err := os.MkdirAll(path, 0o777); err != nil {
		return nil, err
	}
	_ = os.Chmod(path, 0o777) // any user of any container may write its own files here
	comb, err := os.OpenFile(filepath.Join(path, "combined"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &ctrDir{path: path, comb: comb}, nil
}

func (c *ctrDir) appendCombined(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = c.comb.Write(p)
}

// holdRunning creates ctr/<name>/running holding an exclusive flock for as long as this process lives.
// `wait` reads a "running" file it can lock, with no exitcode, as a launcher that was killed before it
// could write one (the container OOM-killed): it then reports instead of waiting for ever. The file is
// locked before it is renamed into place, so `wait` never sees it unlocked while the launcher lives.
func (c *ctrDir) holdRunning() (*os.File, error) {
	tmp := filepath.Join(c.path, ".running.tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(c.path, "running")); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// writeExitCode writes the exitcode file atomically: `wait` reads it as soon as it exists.
func (c *ctrDir) writeExitCode(code int) {
	tmp := filepath.Join(c.path, ".exitcode.tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(code)), 0o644); err == nil {
		_ = os.Rename(tmp, filepath.Join(c.path, "exitcode"))
	}
}

// combinedWriter appends one stream to the combined log under the directory's lock.
type combinedWriter struct{ c *ctrDir }

func (w combinedWriter) Write(p []byte) (int, error) {
	w.c.appendCombined(p)
	return len(p), nil
}

func launch(env settings, args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	ctr, err := openCtr(env.runDir, env.container)
	if err != nil {
		return fail(env, nil, "cannot create %s/ctr/%s: %v", env.runDir, env.container, err)
	}
	defer ctr.comb.Close()
	if alive, err := ctr.holdRunning(); err == nil {
		defer alive.Close() // released by the kernel however the launcher ends, even SIGKILL (OOM)
	}
	if len(args) == 0 {
		return fail(env, ctr, "no command to run (the pod gives the launcher `-- COMMAND [ARGS...]`)")
	}
	tmpl, err := loadTemplate(env)
	if err != nil {
		return fail(env, ctr, "%v", err)
	}
	if code, ok := waitForDependencies(env, ctr, tmpl); !ok {
		return code
	}
	code, err := run(env, ctr, tmpl, args)
	if err != nil {
		return fail(env, ctr, "%v", err)
	}
	if env.container == "main" {
		for _, msg := range copyOutputs(env.runDir, tmpl) {
			fmt.Fprintln(env.stderr, "sluice-launcher:", msg)
		}
	}
	ctr.writeExitCode(code)
	return code
}

// waitForDependencies runs a containerSet member only once every dependency exited 0.
func waitForDependencies(env settings, ctr *ctrDir, tmpl *template) (int, bool) {
	for _, dep := range tmpl.dependencies(env.container) {
		file := filepath.Join(env.runDir, "ctr", dep, "exitcode")
		var data []byte
		for {
			var err error
			if data, err = os.ReadFile(file); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if code, err := strconv.Atoi(strings.TrimSpace(string(data))); err != nil || code != 0 {
			return fail(env, ctr, "dependency %q exited with code %s; %q does not run",
				dep, strings.TrimSpace(string(data)), env.container), false
		}
	}
	return 0, true
}

// run starts the command in its own process group and waits for it; err only when it cannot start.
func run(env settings, ctr *ctrDir, tmpl *template, args []string) (int, error) {
	stdoutFile, err := os.OpenFile(filepath.Join(ctr.path, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("cannot write %s/stdout: %v", ctr.path, err)
	}
	defer stdoutFile.Close()
	path, err := exec.LookPath(args[0])
	if err != nil {
		return 0, fmt.Errorf("cannot run %q: %v", args[0], unwrapExec(err))
	}
	cmd := exec.Command(path, args[1:]...)
	cmd.Args[0] = args[0] // argv[0] as the user wrote it
	cmd.Stdin = env.stdin
	cmd.Stdout = io.MultiWriter(env.stdout, stdoutFile, combinedWriter{ctr})
	cmd.Stderr = io.MultiWriter(env.stderr, combinedWriter{ctr})
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("cannot run %q: %v", args[0], unwrapExec(err))
	}
	done := make(chan struct{})
	go forward(env, ctr, tmpl, cmd.Process.Pid, signals, done)
	err = cmd.Wait()
	close(done)
	if err == nil {
		return 0, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return signalBase + int(status.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return 0, fmt.Errorf("waiting for %q: %v", args[0], err)
}

func unwrapExec(err error) error {
	var perr *os.PathError
	if errors.As(err, &perr) {
		return perr.Err
	}
	var eerr *exec.Error
	if errors.As(err, &eerr) {
		return eerr.Err
	}
	return err
}

// forward passes signals to the command's process group: the launcher's own signals, a number written
// to ctr/<name>/signal (how `wait` stops main), the deadline, and for a sidecar, main having ended.
func forward(env settings, ctr *ctrDir, tmpl *template, pid int, signals <-chan os.Signal, done <-chan struct{}) {
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	deadline, hasDeadline := parseDeadline(env.deadline)
	grace := parseGrace(env.graceSeconds)
	var killAt time.Time // SIGKILL follows SIGTERM after the grace period
	terminate := func() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		if killAt.IsZero() {
			killAt = time.Now().Add(grace)
		}
	}
	sidecar := tmpl.isSidecar(env.container)
	signalFile := filepath.Join(ctr.path, "signal")
	for {
		select {
		case <-done:
			return
		case sig := <-signals:
			_ = syscall.Kill(-pid, sig.(syscall.Signal))
		case now := <-ticker.C:
			// A file caught between its creation and its write reads empty: it stays for the next tick
			// (removing it then would lose the signal written into it a moment later).
			if data, err := os.ReadFile(signalFile); err == nil && strings.TrimSpace(string(data)) != "" {
				_ = os.Remove(signalFile)
				if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n > 0 {
					_ = syscall.Kill(-pid, syscall.Signal(n))
					if n == int(syscall.SIGTERM) && killAt.IsZero() {
						killAt = now.Add(grace)
					}
				}
			}
			if hasDeadline && now.After(deadline) && killAt.IsZero() {
				fmt.Fprintln(env.stderr, "sluice-launcher: step exceeded its deadline")
				terminate()
			}
			if sidecar && killAt.IsZero() && fileExists(filepath.Join(env.runDir, "ctr", "main", "exitcode")) {
				terminate()
			}
			if !killAt.IsZero() && now.After(killAt) {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	}
}

func parseDeadline(text string) (time.Time, bool) {
	if text == "" || strings.HasPrefix(text, "0001-01-01") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, text)
	return t, err == nil
}

func parseGrace(text string) time.Duration {
	n, err := strconv.Atoi(text)
	if err != nil || n < 0 {
		n = 30
	}
	return time.Duration(n) * time.Second
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
