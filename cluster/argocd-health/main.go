// argocd-health: Argo CD's health verdict for Kubernetes objects, computed by Argo CD's own code
// (github.com/argoproj/gitops-engine pkg/health, which Argo CD calls for every resource without a Lua
// override; argoproj.io/Workflow has none). Reads a JSON array of objects on stdin, writes a JSON array
// of {"status", "message"} in the same order. Built by cluster/build-argo-cli.sh for
// tests/e2e/test_argocd_health.py; never shipped.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/gitops-engine/pkg/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	var objects []map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&objects); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health: stdin is not a JSON array of objects:", err)
		os.Exit(2)
	}
	out := make([]verdict, 0, len(objects))
	for _, obj := range objects {
		h, err := health.GetResourceHealth(&unstructured.Unstructured{Object: obj}, nil)
		switch {
		case err != nil:
			out = append(out, verdict{Status: "error", Message: err.Error()})
		case h == nil: // no health rule for this kind
			out = append(out, verdict{Status: "none"})
		default:
			out = append(out, verdict{Status: string(h.Status), Message: h.Message})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health:", err)
		os.Exit(1)
	}
}
