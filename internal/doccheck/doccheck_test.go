package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// snippet is one ```go block of a Markdown file.
type snippet struct {
	file  string // the Markdown file, relative to the module root
	line  int    // the line of its opening fence
	group string // its group: the package name, or a go:group marker's name
	vet   bool   // marked vet-only: compiled, its tests not run
	src   []byte
}

// groupMarker is the line that may stand before a block:
// <!-- go:group NAME -->, <!-- go:vet-only -->, or both,
// <!-- go:group NAME vet-only -->.
var groupMarker = regexp.MustCompile(`^<!--\s*go:(?:group\s+([A-Za-z0-9_-]+))?\s*(vet-only)?\s*-->$`)

// extract returns the ```go blocks of the Markdown text md.
func extract(name string, md []byte) ([]snippet, error) {
	var (
		out     []snippet
		in      bool
		cur     snippet
		body    bytes.Buffer
		pending string // the group named by a marker on the line before a fence
		vetOnly bool   // the marker on the line before a fence said vet-only
		lineNo  int
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case in && trimmed == "```":
			in = false
			cur.src = append([]byte(nil), body.Bytes()...)
			out = append(out, cur)
		case in:
			body.WriteString(line)
			body.WriteByte('\n')
		case trimmed == "```go":
			in = true
			cur = snippet{file: name, line: lineNo, group: pending, vet: vetOnly}
			body.Reset()
			pending, vetOnly = "", false
		default:
			if m := groupMarker.FindStringSubmatch(trimmed); m != nil && (m[1] != "" || m[2] != "") {
				pending, vetOnly = m[1], m[2] != ""
			} else if trimmed != "" {
				pending, vetOnly = "", false
			}
		}
	}
	if in {
		return nil, fmt.Errorf("%s:%d: a ```go block is never closed", name, cur.line)
	}
	return out, sc.Err()
}

// markdownFiles returns the Markdown files whose snippets are checked,
// relative to the module root root.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	if _, err := os.Stat(filepath.Join(root, "CONTRIBUTING.md")); err == nil {
		files = append(files, "CONTRIBUTING.md")
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, rel)
	}
	return files
}

var slug = regexp.MustCompile(`[^A-Za-z0-9]+`)

// TestMarkdownSnippetsCompile compiles every Go snippet of the Markdown
// files with go vet.
func TestMarkdownSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("compiling the Markdown snippets runs go vet on each; skipped with -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	groups := map[string][]snippet{}
	var keys []string
	for _, name := range markdownFiles(t, root) {
		md, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		snips, err := extract(name, md)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snips {
			f, err := parser.ParseFile(fset, "", s.src, parser.ImportsOnly)
			if err != nil {
				t.Errorf("%s:%d: a ```go block must be a complete Go file, starting with its package clause (use ```text for a fragment): %v", s.file, s.line, err)
				continue
			}
			if formatted, err := format.Source(s.src); err == nil && !bytes.Equal(formatted, s.src) {
				t.Errorf("%s:%d: the ```go block is not gofmt-formatted; format it as gofmt would", s.file, s.line)
			}
			if s.group == "" {
				s.group = f.Name.Name
			}
			key := name + "#" + s.group
			if _, ok := groups[key]; !ok {
				keys = append(keys, key)
			}
			groups[key] = append(groups[key], s)
		}
	}
	if t.Failed() {
		return
	}
	if len(keys) == 0 {
		t.Fatal("no ```go block found in the Markdown files")
	}

	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp("testdata", "snippets-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })

	where := map[string]string{} // a written file's path → its Markdown place
	var dirs, testDirs []string
	slices.Sort(keys)
	for _, key := range keys {
		dir := filepath.Join(tmp, strings.Trim(slug.ReplaceAllString(key, "_"), "_"))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, "./"+filepath.ToSlash(dir))
		run := !slices.ContainsFunc(groups[key], func(s snippet) bool { return s.vet })
		for i, s := range groups[key] {
			name := "block" + strconv.Itoa(i)
			if bytes.Contains(s.src, []byte(`"testing"`)) {
				name += "_test"
				if run && !slices.Contains(testDirs, "./"+filepath.ToSlash(dir)) {
					testDirs = append(testDirs, "./"+filepath.ToSlash(dir))
				}
			}
			path := filepath.Join(dir, name+".go")
			if err := os.WriteFile(path, s.src, 0o644); err != nil {
				t.Fatal(err)
			}
			where[filepath.ToSlash(path)] = fmt.Sprintf("%s:%d", s.file, s.line)
		}
	}
	// Name the Markdown place of each file an error mentions.
	places := func(out []byte) string {
		msg := string(out)
		for path, place := range where {
			msg = strings.ReplaceAll(msg, path, place+" ("+filepath.Base(path)+")")
		}
		return msg
	}
	if out, err := exec.Command("go", append([]string{"vet"}, dirs...)...).CombinedOutput(); err != nil {
		t.Fatalf("the Markdown's Go snippets do not compile (go vet: %v); fix the snippet at the place named:\n%s", err, places(out))
	}
	// The snippets that are tests must pass, too.
	if len(testDirs) > 0 {
		if out, err := exec.Command("go", append([]string{"test", "-count=1"}, testDirs...)...).CombinedOutput(); err != nil {
			t.Fatalf("the Markdown's Go test snippets fail (go test: %v); fix the snippet at the place named:\n%s", err, places(out))
		}
	}
	t.Logf("compiled %d snippet groups from the Markdown files, and ran the tests of %d", len(keys), len(testDirs))
}

// TestExtract checks the extraction rules on a small page.
func TestExtract(t *testing.T) {
	md := "text\n```go\npackage a\n```\n\n<!-- go:group two vet-only -->\n```go\npackage main\n```\n```text\nnot go\n```\n```go\npackage main\n"
	if _, err := extract("x.md", []byte(md)); err == nil {
		t.Fatal("an unclosed ```go block was not reported")
	}
	snips, err := extract("x.md", []byte(md+"```\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(snips) != 3 {
		t.Fatalf("found %d blocks, want 3", len(snips))
	}
	if snips[0].line != 2 || snips[1].group != "two" || !snips[1].vet || snips[2].group != "" || snips[2].vet {
		t.Errorf("blocks %+v: want the first at line 2, the second in group two, the third in no marked group", snips)
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)\s]*)?\)`)

// TestMarkdownLinks checks that every relative link of the Markdown files
// names a file or directory of the repository.
func TestMarkdownLinks(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range markdownFiles(t, root) {
		md, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(md), "\n") {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "?") {
					continue
				}
				path := filepath.Join(root, filepath.Dir(name), target)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: the link to %s names no file of the repository", name, i+1, target)
				}
			}
		}
	}
}
