package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// nodeJSBailExitCode is the exit code with which @pulumi/pulumi/cmd/run says "the
// error was already shown to the user": the engine then stops without adding its own
// message (nodeJSProcessExitedAfterLoggingUserActionableMessage in the SDK).
const nodeJSBailExitCode = 32

// resolveTimeout bounds the one `node -e require.resolve(...)` call per Run.
const resolveTimeout = 30 * time.Second

// nodeHost implements the RPCs the engine needs to run a Node.js program. RPCs it
// does not implement answer Unimplemented, which the engine treats as "not supported
// by this host" (Handshake, GetRequiredPackages and the code generators are probed
// that way by design).
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
	version       string
	running       map[*exec.Cmd]struct{}
}

func newNodeHost(engineAddress, tracing, version string) *nodeHost {
	return &nodeHost{
		engineAddress: engineAddress,
		tracing:       tracing,
		version:       version,
		running:       map[*exec.Cmd]struct{}{},
	}
}

func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: h.version}, nil
}

// GetRequiredPackages reports the resource plugins of the Pulumi packages installed in
// node_modules, as the upstream host does. The engine only tries to install these
// (and, with automatic acquisition disabled, just logs a missing one); it loads a
// provider lazily, the first time a resource of that package is registered.
func (h *nodeHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	prog := programFromInfo(req.GetInfo(), "", "")
	pkgs, err := findPulumiPackages(prog.directory)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range pkgs {
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name: p.name, Kind: "resource", Version: p.version, Server: p.server,
		})
	}
	return resp, nil
}

// GetRequiredPlugins is the pre-GetRequiredPackages form, kept for engines that still
// call it.
func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest, //nolint:staticcheck // deprecated upstream, still called by older engines
) (*pulumirpc.GetRequiredPluginsResponse, error) { //nolint:staticcheck
	prog := programFromInfo(req.GetInfo(), req.GetPwd(), req.GetProgram()) //nolint:staticcheck
	pkgs, err := findPulumiPackages(prog.directory)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{} //nolint:staticcheck
	for _, p := range pkgs {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: p.name, Kind: "resource", Version: p.version, Server: p.server,
		})
	}
	return resp, nil
}

// Run starts `node <nodeargs> @pulumi/pulumi/cmd/run <flags> <program> <args>` in the
// program's directory and waits for it. The flags and environment variables are the
// ones cmd/run of the Node SDK reads (cmd/run/index.js and runtime/config.js).
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return nil, status.Error(codes.Unimplemented, "keywire's Node.js language host does not support --attach-debugger")
	}
	prog := programFromInfo(req.GetInfo(), req.GetPwd(), req.GetProgram())
	opts := runtimeOptionsFrom(prog.options)

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the PATH: " + err.Error()}, nil
	}
	runPath, err := resolveRunScript(ctx, nodeBin, prog.directory)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	configJSON, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize configuration: " + err.Error()}, nil
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize secret keys: " + err.Error()}, nil
	}

	h.mu.Lock()
	engineAddress := h.engineAddress
	h.mu.Unlock()

	args, err := splitArgs(opts.nodeArgs)
	if err != nil {
		return &pulumirpc.RunResponse{Error: "invalid nodeargs runtime option: " + err.Error()}, nil
	}
	args = append(args, runArguments(req, prog, runPath, engineAddress, h.tracing)...)

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = prog.directory
	cmd.Env = env
	// The engine relays the host's stdout and stderr as the program's output.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// If the engine gives up on the RPC, stop the program, and do not wait forever for
	// grandchildren holding the output pipes.
	cmd.WaitDelay = 10 * time.Second
	diesWithHost(cmd)

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: "could not start node: " + err.Error()}, nil
	}
	h.track(cmd, true)
	err = cmd.Wait()
	h.track(cmd, false)
	// Node writes with process.stdout.write asynchronously; make sure what reached
	// our stdout is flushed before the engine reads the result.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()

	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		switch code := exitErr.ExitCode(); code {
		case nodeJSBailExitCode:
			return &pulumirpc.RunResponse{Bail: true}, nil
		case -1:
			return &pulumirpc.RunResponse{Error: "program was stopped: " + exitErr.String()}, nil
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
		}
	}
	return &pulumirpc.RunResponse{Error: "problem running the program: " + err.Error()}, nil
}

// Cancel stops any program this host started; the engine calls it on Ctrl-C.
func (h *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.killAll()
	return &emptypb.Empty{}, nil
}

func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: nodeBin, Version: strings.TrimSpace(string(out))}, nil
}

// GetProgramDependencies lists the direct dependencies of the program's package.json
// with the versions installed in node_modules (for `pulumi about`).
func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	prog := programFromInfo(req.GetInfo(), req.GetPwd(), req.GetProgram())
	deps, err := directDependencies(prog.directory)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.name, Version: d.version})
	}
	return resp, nil
}

func (h *nodeHost) track(cmd *exec.Cmd, add bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if add {
		h.running[cmd] = struct{}{}
	} else {
		delete(h.running, cmd)
	}
}

func (h *nodeHost) killAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	}
}

// program is where the engine says the program lives.
type program struct {
	root       string // directory of Pulumi.yaml
	directory  string // directory the program runs in
	entryPoint string // file or "." relative to directory ("." lets package.json decide)
	options    *structpb.Struct
}

// programFromInfo prefers the ProgramInfo the engine sends; the plain pwd/program
// fields are the older form of the same facts.
func programFromInfo(info *pulumirpc.ProgramInfo, pwd, prog string) program {
	p := program{root: pwd, directory: pwd, entryPoint: prog}
	if info != nil {
		if info.GetRootDirectory() != "" {
			p.root = info.GetRootDirectory()
		}
		if info.GetProgramDirectory() != "" {
			p.directory = info.GetProgramDirectory()
		}
		if info.GetEntryPoint() != "" {
			p.entryPoint = info.GetEntryPoint()
		}
		p.options = info.GetOptions()
	}
	if p.directory == "" {
		if wd, err := os.Getwd(); err == nil {
			p.directory = wd
		}
	}
	if p.root == "" {
		p.root = p.directory
	}
	if p.entryPoint == "" {
		p.entryPoint = "."
	}
	return p
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml that change how the program
// is started; the upstream host reads the same names.
type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeArgs   string
}

func runtimeOptionsFrom(s *structpb.Struct) runtimeOptions {
	opts := runtimeOptions{typescript: true}
	if s == nil {
		return opts
	}
	fields := s.GetFields()
	if v, ok := fields["typescript"]; ok {
		if b, isBool := v.GetKind().(*structpb.Value_BoolValue); isBool {
			opts.typescript = b.BoolValue
		}
	}
	if v, ok := fields["tsconfig"]; ok {
		opts.tsconfig = v.GetStringValue()
	}
	if v, ok := fields["nodeargs"]; ok {
		opts.nodeArgs = v.GetStringValue()
	}
	return opts
}

// runArguments builds the command line of @pulumi/pulumi/cmd/run (its usage() lists
// these flags).
func runArguments(req *pulumirpc.RunRequest, prog program, runPath, engineAddress, tracing string) []string {
	args := []string{runPath}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k+"="+v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", prog.root)
	add("stack", req.GetStack())
	add("pwd", prog.directory)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", tracing)
	args = append(args, prog.entryPoint)
	return append(args, req.GetArgs()...)
}

// resolveRunScript finds @pulumi/pulumi/cmd/run the way the program itself will
// find @pulumi/pulumi: Node's module resolution from the program directory. That keeps
// the runner and the program on the same copy of the SDK.
func resolveRunScript(ctx context.Context, nodeBin, dir string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "-e",
		`process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run"))`)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		return "", fmt.Errorf("could not find @pulumi/pulumi from %s: is it installed (npm install)? %s",
			dir, strings.TrimSpace(firstLine(stderr.String())))
	}
	return filepath.Clean(string(out)), nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// splitArgs splits the nodeargs option like a shell would for the simple cases it is
// used for: whitespace separates words, single or double quotes group them.
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
			inWord = true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
