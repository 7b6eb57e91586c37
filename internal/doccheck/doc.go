// Package doccheck holds the test that compiles every Go snippet of the
// project's Markdown (README.md, CONTRIBUTING.md and the guides in docs/),
// so that a snippet that no longer builds fails make test.
//
// The rules a snippet follows:
//
//   - A ```go block is a complete, gofmt-formatted Go file: it starts with
//     its package clause. Text that is not a complete file goes in a
//     ```text or ```sh block.
//   - The ```go blocks of one Markdown file with the same package name form
//     one package, each block one file, in the order they appear. A line
//     <!-- go:group NAME --> just before a block puts it in group NAME
//     instead, so that one page can show two programs.
//   - A block that imports "testing" is a test file (name_test.go): go vet
//     compiles it with its package, and go test runs it, so a snippet that
//     shows a test shows one that passes.
//
// The test writes each group into a directory under testdata (so the
// module's go.mod resolves its imports), runs go vet on them all, and go
// test on those with tests.
package doccheck
