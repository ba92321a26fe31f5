package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindPulumiPackagesReadsScopedNestedAndAncestorNodeModules(t *testing.T) {
	root := t.TempDir()
	nm := filepath.Join(root, "node_modules")
	writeFile(t, filepath.Join(nm, "@pulumi", "aws", "package.json"),
		`{"name":"@pulumi/aws","version":"7.48.0","pulumi":{"resource":true,"name":"aws","version":"7.48.0"}}`)
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "package.json"),
		`{"name":"@pulumi/pulumi","version":"3.259.0","pulumi":{"comment":"not a provider"}}`)
	writeFile(t, filepath.Join(nm, "@acme", "thing", "package.json"),
		`{"name":"@acme/thing","version":"1.2.3","pulumi":{"resource":true,"server":"https://example.invalid"}}`)
	writeFile(t, filepath.Join(nm, "axios", "node_modules", "@pulumi", "random", "package.json"),
		`{"name":"@pulumi/random","version":"4.0.0","pulumi":{"resource":true}}`)
	writeFile(t, filepath.Join(nm, "axios", "package.json"), `{"name":"axios","version":"1.0.0"}`)
	writeFile(t, filepath.Join(nm, ".bin", "package.json"), `not json, and skipped`)

	// The program lives below the directory holding node_modules, as keywire's
	// fixtures do.
	program := filepath.Join(root, "test", "fixture")
	if err := os.MkdirAll(program, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := findPulumiPackages(program)
	if err != nil {
		t.Fatal(err)
	}
	want := []pulumiPackage{
		{name: "acme/thing", version: "v1.2.3", server: "https://example.invalid"},
		{name: "aws", version: "v7.48.0"},
		{name: "random", version: "v4.0.0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestFindPulumiPackagesWithoutNodeModules(t *testing.T) {
	got, err := findPulumiPackages(t.TempDir())
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want nothing", got, err)
	}
}

func TestRunArgumentsFollowCmdRunUsage(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1", Organization: "org", Project: "proj", Stack: "dev",
		DryRun: true, Parallel: 8, Args: []string{"extra"},
	}
	prog := program{root: "/p", directory: "/p/src", entryPoint: "index.ts"}
	got := runArguments(req, prog, "/nm/@pulumi/pulumi/cmd/run/index.js", "127.0.0.1:2", "")
	want := []string{
		"/nm/@pulumi/pulumi/cmd/run/index.js",
		"--monitor=127.0.0.1:1", "--engine=127.0.0.1:2", "--organization=org", "--project=proj",
		"--root-directory=/p", "--stack=dev", "--pwd=/p/src", "--dry-run", "--parallel=8",
		"index.ts", "extra",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestProgramFromInfoPrefersProgramInfo(t *testing.T) {
	info := &pulumirpc.ProgramInfo{RootDirectory: "/root", ProgramDirectory: "/root/app", EntryPoint: "."}
	got := programFromInfo(info, "/old", "old.js")
	if got.root != "/root" || got.directory != "/root/app" || got.entryPoint != "." {
		t.Fatalf("got %+v", got)
	}
	legacy := programFromInfo(nil, "/old", "")
	if legacy.root != "/old" || legacy.directory != "/old" || legacy.entryPoint != "." {
		t.Fatalf("got %+v", legacy)
	}
}

func TestRuntimeOptions(t *testing.T) {
	if opts := runtimeOptionsFrom(nil); !opts.typescript {
		t.Fatal("typescript must default to true, as upstream")
	}
	s, err := structpb.NewStruct(map[string]any{"typescript": false, "tsconfig": "tsconfig.build.json", "nodeargs": "--max-old-space-size=4096"})
	if err != nil {
		t.Fatal(err)
	}
	got := runtimeOptionsFrom(s)
	want := runtimeOptions{typescript: false, tsconfig: "tsconfig.build.json", nodeArgs: "--max-old-space-size=4096"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestSplitArgs(t *testing.T) {
	got, err := splitArgs(`--a  "b c" 'd e'f`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--a", "b c", "d ef"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := splitArgs(`"open`); err == nil {
		t.Fatal("an unterminated quote must be an error")
	}
	if got, _ := splitArgs("   "); len(got) != 0 {
		t.Fatalf("got %q, want none", got)
	}
}
