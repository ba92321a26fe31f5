// Command s3-test-server is an S3-compatible server for keywire's end-to-end tests:
// a Pulumi DIY backend (`pulumi login s3://…`) kept in memory, on loopback only.
//
// It listens on 127.0.0.1 at the given port (0: a free one), creates the bucket it is
// told to, and prints one line, "listening http://127.0.0.1:PORT", once it accepts
// connections. It stops on SIGINT or SIGTERM, and when its standard input closes, so
// that a test runner that dies without stopping it does not leave it behind.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	if err := run(); err != nil {
		log.Fatalf("s3-test-server: %v", err)
	}
}

func run() error {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	bucket := flag.String("bucket", "", "bucket to create at start")
	watchStdin := flag.Bool("exit-on-stdin-eof", true, "stop when standard input closes")
	flag.Parse()

	backend := s3mem.New()
	if *bucket != "" {
		if err := backend.CreateBucket(*bucket); err != nil {
			return fmt.Errorf("creating bucket %q: %w", *bucket, err)
		}
	}
	// Path-style requests only (http://127.0.0.1:PORT/bucket/key): a loopback address
	// has no bucket subdomains.
	faker := gofakes3.New(backend, gofakes3.WithHostBucket(false))

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 30 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("listening http://%s\n", ln.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
