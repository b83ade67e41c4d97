// argosay: our own stand-in for Argo's test image argoproj/argosay (v1 and v2 command lines).
//
//	argosay                              prints "hello argo"
//	argosay echo [text [file]]           prints text (or "hello argo"), or writes it to file (parents made)
//	argosay cat [file...]                copies files to stdout
//	argosay sleep DURATION               sleeps (Go duration, or plain seconds)
//	argosay exit [CODE]                  exits with CODE (default 0)
//	argosay assert_contains FILE TEXT    fails unless FILE contains TEXT
//	argosay assert_equals FILE TEXT      fails unless FILE's content equals TEXT (trailing newline ignored)
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type exitCode int

func main() {
	if err := run(os.Args[1:]); err != nil {
		if code, ok := err.(exitCode); ok {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "argosay:", err)
		os.Exit(1)
	}
}

func (c exitCode) Error() string { return "exit " + strconv.Itoa(int(c)) }

const usage = "usage: argosay [echo [text [file]] | cat [file...] | sleep duration | exit [code] | " +
	"assert_contains file text | assert_equals file text]"

func run(args []string) error {
	if len(args) == 0 {
		args = []string{"echo"}
	}
	rest := args[1:]
	switch args[0] {
	case "echo":
		switch len(rest) {
		case 0:
			fmt.Println("hello argo")
		case 1:
			fmt.Println(rest[0])
		case 2:
			if err := os.MkdirAll(filepath.Dir(rest[1]), 0o777); err != nil {
				return err
			}
			return os.WriteFile(rest[1], []byte(rest[0]), 0o666)
		default:
			return fmt.Errorf(usage)
		}
		return nil
	case "cat":
		for _, name := range rest {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			_, err = io.Copy(os.Stdout, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	case "sleep":
		if len(rest) != 1 {
			return fmt.Errorf(usage)
		}
		d, err := time.ParseDuration(rest[0])
		if err != nil {
			secs, err2 := strconv.ParseFloat(rest[0], 64)
			if err2 != nil {
				return err
			}
			d = time.Duration(secs * float64(time.Second))
		}
		time.Sleep(d)
		return nil
	case "exit":
		switch len(rest) {
		case 0:
			return nil
		case 1:
			code, err := strconv.Atoi(rest[0])
			if err != nil {
				return err
			}
			if code == 0 {
				return nil
			}
			return exitCode(code)
		}
		return fmt.Errorf(usage)
	case "assert_contains", "assert_equals":
		if len(rest) != 2 {
			return fmt.Errorf(usage)
		}
		data, err := os.ReadFile(rest[0])
		if err != nil {
			return err
		}
		got := string(data)
		if args[0] == "assert_contains" && !strings.Contains(got, rest[1]) {
			return fmt.Errorf("%q does not contain %q", got, rest[1])
		}
		if args[0] == "assert_equals" && strings.TrimSuffix(got, "\n") != strings.TrimSuffix(rest[1], "\n") {
			return fmt.Errorf("%q does not equal %q", got, rest[1])
		}
		return nil
	}
	return fmt.Errorf("unknown command %q; %s", args[0], usage)
}
