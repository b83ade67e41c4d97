// The project cluster's DNS server (cluster/build-coredns.sh builds it; cluster/up.sh runs it): CoreDNS
// with only the plugins a cluster.local-only server needs. CoreDNS's own main imports every plugin
// (cloud SDKs included); this one imports six, and none that could send a query anywhere else (no
// forward, grpc, etcd, hosts, loop or cloud zones): a name outside cluster.local is answered NXDOMAIN
// by the server itself.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"       // listen on the node address only
	_ "github.com/coredns/coredns/plugin/errors"     // errors to the log
	_ "github.com/coredns/coredns/plugin/kubernetes" // cluster.local from the API server
	_ "github.com/coredns/coredns/plugin/log"        // denials to the log
	_ "github.com/coredns/coredns/plugin/ready"      // up.sh waits for the API server's data synced
	_ "github.com/coredns/coredns/plugin/template"   // NXDOMAIN for every name outside cluster.local
)

func main() { coremain.Run() }
