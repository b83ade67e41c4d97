// sluice-launcher: the entrypoint of every user container of a Sluice pod (docs/architecture.md
// "The pod"; what Argo's emissary is to its pods). Static, no shell, no libc: `init` stages it into the shared
// volume and `main` runs
//
//	/var/run/argo/launcher -- COMMAND [ARGS...]
//
// It runs COMMAND with its arguments untouched in its own process group, forwards SIGTERM/SIGINT (and
// a signal number written to ctr/<name>/signal, or ARGO_DEADLINE passing) to that group, tees stdout to
// ctr/<name>/stdout and stdout+stderr to ctr/<name>/combined, and after the command ends copies the
// declared output paths into outputs/parameters/<path> and outputs/artifacts/<path> (container `main`
// only; not those on main's volumes, which `wait` reads in place at /mainctrfs), then writes ctr/<name>/exitcode (always last, atomically: `wait` waits for it) and exits with
// the command's code. A containerSet member first waits for its dependencies' exitcode files; a
// user sidecar stops itself once `main` has written its exitcode.
//
// Exit codes: the command's own; 128+N when a signal N killed it; 64 when the launcher could not run
// it at all (also written to the exitcode file and to the termination log, so the node says why).
package main

import (
	"fmt"
	"os"
)

const (
	launcherFailed = 64
	signalBase     = 128
)

func main() {
	env := environment()
	code := launch(env, os.Args[1:])
	os.Exit(code)
}

// environment reads the settings the pod gives every container (workflow/engine/pods.py).
func environment() settings {
	s := settings{
		runDir:         getenv("SLUICE_RUN_DIR", "/var/run/argo"),
		container:      getenv("ARGO_CONTAINER_NAME", "main"),
		deadline:       os.Getenv("ARGO_DEADLINE"),
		terminationLog: getenv("SLUICE_TERMINATION_LOG", "/dev/termination-log"),
		templateJSON:   os.Getenv("ARGO_TEMPLATE"),
		graceSeconds:   getenv("ARGO_TERMINATION_GRACE_PERIOD_SECONDS", "30"),
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		stdin:          os.Stdin,
	}
	return s
}

func getenv(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

// fail reports a launcher-level failure the way the node shows it, and returns its exit code.
func fail(env settings, ctr *ctrDir, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(env.stderr, "sluice-launcher:", msg)
	if ctr != nil {
		ctr.appendCombined([]byte("sluice-launcher: " + msg + "\n"))
		ctr.writeExitCode(launcherFailed)
	}
	// The kubelet shows the termination log as the container's message (main: Error (exit code 64): ...).
	_ = os.WriteFile(env.terminationLog, []byte(msg), 0o644)
	return launcherFailed
}
