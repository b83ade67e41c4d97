package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// template is the part of the processed template (ARGO_TEMPLATE, or the file init wrote) the launcher
// reads: output paths, containerSet dependencies and sidecar names.
type template struct {
	Outputs struct {
		Parameters []struct {
			Name      string `json:"name"`
			ValueFrom *struct {
				Path string `json:"path"`
			} `json:"valueFrom"`
		} `json:"parameters"`
		Artifacts []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"artifacts"`
	} `json:"outputs"`
	ContainerSet *struct {
		VolumeMounts []mount `json:"volumeMounts"`
		Containers   []struct {
			Name         string   `json:"name"`
			Dependencies []string `json:"dependencies"`
			VolumeMounts []mount  `json:"volumeMounts"`
		} `json:"containers"`
	} `json:"containerSet"`
	Container *struct {
		VolumeMounts []mount `json:"volumeMounts"`
	} `json:"container"`
	Script *struct {
		VolumeMounts []mount `json:"volumeMounts"`
	} `json:"script"`
	Sidecars []struct {
		Name string `json:"name"`
	} `json:"sidecars"`
}

func loadTemplate(env settings) (*template, error) {
	data := []byte(env.templateJSON)
	if len(data) == 0 {
		var err error
		data, err = os.ReadFile(filepath.Join(env.runDir, "template"))
		if os.IsNotExist(err) {
			return &template{}, nil // a pod without outputs or members needs no template
		} else if err != nil {
			return nil, fmt.Errorf("cannot read the template: %v", err)
		}
	}
	var t template
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("the template is not valid JSON: %v", err)
	}
	return &t, nil
}

func (t *template) dependencies(name string) []string {
	if t.ContainerSet == nil {
		return nil
	}
	for _, c := range t.ContainerSet.Containers {
		if c.Name == name {
			return c.Dependencies
		}
	}
	return nil
}

type mount struct {
	MountPath string `json:"mountPath"`
}

// mainVolumes are the mount paths of main's own volumes (the template's `volumeMounts` for main; a
// containerSet's shared ones too). workflow/engine/pods.py mirrors each into `wait` at /mainctrfs, where
// it reads outputs in place.
func (t *template) mainVolumes() []string {
	var mounts []mount
	if t.Container != nil {
		mounts = append(mounts, t.Container.VolumeMounts...)
	}
	if t.Script != nil {
		mounts = append(mounts, t.Script.VolumeMounts...)
	}
	if t.ContainerSet != nil {
		mounts = append(mounts, t.ContainerSet.VolumeMounts...)
		for _, c := range t.ContainerSet.Containers {
			if c.Name == "main" {
				mounts = append(mounts, c.VolumeMounts...)
			}
		}
	}
	var paths []string
	for _, m := range mounts {
		if strings.HasPrefix(m.MountPath, "/") {
			paths = append(paths, filepath.Clean(m.MountPath))
		}
	}
	return paths
}

// onVolume: is path on one of the volumes (at or under a mount path)?
func onVolume(path string, volumes []string) bool {
	path = filepath.Clean(path)
	for _, v := range volumes {
		if path == v || strings.HasPrefix(path, strings.TrimSuffix(v, "/")+"/") {
			return true
		}
	}
	return false
}

func (t *template) isSidecar(name string) bool {
	for _, s := range t.Sidecars {
		if s.Name == name {
			return true
		}
	}
	return false
}

// copyOutputs copies each declared output path of main into the shared volume, where `wait` reads it:
// outputs/parameters/<path> and outputs/artifacts/<path>. A path on one of main's volumes is not copied:
// `wait` reads it where it is (as Argo's emissary copies only base-image paths), so a big output on a
// volume is not written twice to the node's disk. A missing path is not an error here (`wait` applies
// the default or fails the node naming the output); other problems are returned as messages.
func copyOutputs(runDir string, t *template) []string {
	var problems []string
	volumes := t.mainVolumes()
	for _, p := range t.Outputs.Parameters {
		if p.ValueFrom != nil && p.ValueFrom.Path != "" && !onVolume(p.ValueFrom.Path, volumes) {
			if err := copyPath(p.ValueFrom.Path, filepath.Join(runDir, "outputs", "parameters", p.ValueFrom.Path)); err != nil {
				problems = append(problems, fmt.Sprintf("output parameter %s: %v", p.Name, err))
			}
		}
	}
	for _, a := range t.Outputs.Artifacts {
		if a.Path != "" && !onVolume(a.Path, volumes) {
			if err := copyPath(a.Path, filepath.Join(runDir, "outputs", "artifacts", a.Path)); err != nil {
				problems = append(problems, fmt.Sprintf("output artifact %s: %v", a.Name, err))
			}
		}
	}
	return problems
}

// copyPath copies a file, a directory tree (symlinks kept as links) or a symlink's target.
func copyPath(src, dst string) error {
	info, err := os.Stat(src) // a declared path that is a link is followed, as `cp` would
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	if !info.IsDir() {
		return copyFile(src, dst, info.Mode())
	}
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case fi.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm()|0o700)
		case fi.Mode().IsRegular():
			return copyFile(path, target, fi.Mode())
		default:
			return nil // sockets, fifos, devices: nothing to upload
		}
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
