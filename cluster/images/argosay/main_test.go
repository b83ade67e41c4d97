package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestArgosay(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a", "b.txt")
	ok := [][]string{
		{}, {"echo"}, {"echo", "hi"}, {"echo", "hi there", file}, {"cat", file},
		{"assert_contains", file, "there"}, {"assert_equals", file, "hi there"},
		{"sleep", "10ms"}, {"sleep", "0.01"}, {"exit"}, {"exit", "0"},
	}
	for _, a := range ok {
		if err := run(a); err != nil {
			t.Errorf("%v: %v", a, err)
		}
	}
	if data, _ := os.ReadFile(file); string(data) != "hi there" {
		t.Errorf("file holds %q", data)
	}
	bad := [][]string{
		{"garbage"}, {"exit", "3"}, {"cat", filepath.Join(dir, "none")}, {"assert_contains", file, "nope"},
		{"assert_equals", file, "hi"}, {"sleep"}, {"echo", "a", "b", "c"},
	}
	for _, a := range bad {
		if err := run(a); err == nil {
			t.Errorf("%v: want an error", a)
		}
	}
	if err := run([]string{"exit", "3"}); err != exitCode(3) {
		t.Errorf("exit 3 gave %v", err)
	}
}
