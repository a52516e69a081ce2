// Command gogzip copies stdin to stdout through Go's compress/gzip at its default level.
//
// That is the compressor `docker push` uses for layers (moby's archive.CompressStream), so
// pare's engine images, and the experiment's fat references, weigh what Docker's would. Python's
// zlib at any level does not reproduce it (Go's deflate matches differently), hence this filter.
// The header is Go's default: no name, mtime 0, OS 255, so the same tar gives the same blob.
package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

func main() {
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, bufio.NewReaderSize(os.Stdin, 1<<20)); err != nil {
		fmt.Fprintln(os.Stderr, "gogzip: read:", err)
		os.Exit(1)
	}
	if err := zw.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gogzip: compress:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gogzip: write:", err)
		os.Exit(1)
	}
}
