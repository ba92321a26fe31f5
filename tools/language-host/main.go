// Command pulumi-language-nodejs is keywire's Node.js language host for the Pulumi
// engine. The engine starts it, reads the gRPC port it prints, and asks it to run
// the program; the host starts `node @pulumi/pulumi/cmd/run` from the project's own
// node_modules, so the engine and the Node SDK meet through the SDK's own entry point.
//
// It exists because the upstream host is published only as a Go module that the Go
// module proxy reachable from keywire's machines does not serve (docs/toolchain.md).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is stamped at build time (-ldflags "-X main.version=…") with the
// @pulumi/pulumi version the host was built for; the engine shows it in `pulumi about`.
var version = ""

func main() {
	// The engine passes these logging/tracing flags when it forwards its own
	// (--logflow); any other flag is a usage error, as for the upstream host.
	fs := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	logToStderr := fs.Bool("logtostderr", false, "log to stderr instead of files")
	verbose := fs.Int("v", 0, "log verbosity")
	tracing := fs.String("tracing", "", "tracing endpoint, passed on to the Node runtime")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	logging.InitLogging(*logToStderr, *verbose, false)
	defer logging.Flush()

	// The engine's address is the last positional argument; it is empty only when a
	// debugger attaches, in which case Handshake supplies it.
	engineAddress := ""
	if args := fs.Args(); len(args) > 0 {
		engineAddress = args[len(args)-1]
	}

	host := newNodeHost(engineAddress, *tracing, version)
	// The host, and the program it runs, end with the CLI, even a SIGKILLed one.
	stopWithParent(host)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}

	// The engine reads exactly this line to learn where to connect.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: gRPC server stopped: %v\n", err)
		host.killAll()
		os.Exit(1)
	}
	host.killAll()
}
