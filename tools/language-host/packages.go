package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Bounds on the node_modules walk: a dependency tree nested deeper, or a directory
// chain longer, than this is not a real project layout (it would be a symlink loop).
const (
	maxNestedNodeModules = 16
	maxParentDirs        = 64
)

// pulumiPackage is a node_modules package that ships a Pulumi resource plugin.
type pulumiPackage struct {
	name    string
	version string
	server  string
}

// packageJSON holds the package.json fields that matter here. A Pulumi provider SDK
// marks itself with "pulumi": {"resource": true, "name": …, "version": …}.
type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          *struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// findPulumiPackages lists the Pulumi resource packages installed in the node_modules
// directory that Node would resolve from dir (the nearest one at or above dir).
func findPulumiPackages(dir string) ([]pulumiPackage, error) {
	nm, ok := nearestNodeModules(dir)
	if !ok {
		return nil, nil
	}
	seen := map[string]pulumiPackage{}
	if err := scanNodeModules(nm, 0, seen); err != nil {
		return nil, err
	}
	out := make([]pulumiPackage, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].version < out[j].version
	})
	return out, nil
}

func nearestNodeModules(dir string) (string, bool) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for range maxParentDirs {
		candidate := filepath.Join(d, "node_modules")
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", false
}

// scanNodeModules reads each package (and @scope/package) in nm, then the packages
// nested in their own node_modules.
func scanNodeModules(nm string, depth int, seen map[string]pulumiPackage) error {
	if depth > maxNestedNodeModules {
		return nil
	}
	entries, err := os.ReadDir(nm)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("reading %s: %w", nm, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // .bin, .package-lock.json, .cache
		}
		p := filepath.Join(nm, name)
		if strings.HasPrefix(name, "@") {
			scoped, err := os.ReadDir(p)
			if err != nil {
				continue
			}
			for _, s := range scoped {
				if err := scanPackage(filepath.Join(p, s.Name()), depth, seen); err != nil {
					return err
				}
			}
			continue
		}
		if err := scanPackage(p, depth, seen); err != nil {
			return err
		}
	}
	return nil
}

func scanPackage(dir string, depth int, seen map[string]pulumiPackage) error {
	pkg, err := readPackageJSON(filepath.Join(dir, "package.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // not a package (a stray directory)
		}
		return err
	}
	if pkg.Pulumi != nil && pkg.Pulumi.Resource {
		p := pulumiPackage{name: pluginName(pkg), version: pluginVersion(pkg), server: pkg.Pulumi.Server}
		if p.name != "" {
			seen[p.name+"@"+p.version] = p
		}
	}
	return scanNodeModules(filepath.Join(dir, "node_modules"), depth+1, seen)
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pkg packageJSON
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &pkg, nil
}

// pluginName: the explicit pulumi.name, else the npm name without "@pulumi/" (or
// without the leading "@" of another scope), the upstream convention.
func pluginName(pkg *packageJSON) string {
	if pkg.Pulumi != nil && pkg.Pulumi.Name != "" {
		return pkg.Pulumi.Name
	}
	if rest, ok := strings.CutPrefix(pkg.Name, "@pulumi/"); ok {
		return rest
	}
	return strings.TrimPrefix(pkg.Name, "@")
}

func pluginVersion(pkg *packageJSON) string {
	v := pkg.Version
	if pkg.Pulumi != nil && pkg.Pulumi.Version != "" {
		v = pkg.Pulumi.Version
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v
}

type dependency struct {
	name    string
	version string
}

// directDependencies reads the nearest package.json at or above dir and reports each
// declared dependency with its installed version ("" when not installed).
func directDependencies(dir string) ([]dependency, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for range maxParentDirs {
		pkg, err := readPackageJSON(filepath.Join(d, "package.json"))
		if err == nil {
			var out []dependency
			for _, deps := range []map[string]string{pkg.Dependencies, pkg.DevDependencies} {
				for name := range deps {
					installed := ""
					if dep, err := readPackageJSON(filepath.Join(d, "node_modules", name, "package.json")); err == nil {
						installed = dep.Version
					}
					out = append(out, dependency{name: name, version: installed})
				}
			}
			sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
			return out, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return nil, fmt.Errorf("no package.json at or above %s", dir)
}
