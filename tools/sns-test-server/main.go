// Command sns-test-server is an Amazon SNS API service for keywire's tests and demo:
// goaws' SNS (and SQS) API, kept in memory, on loopback only.
//
// goaws' own main listens on 0.0.0.0 and finds its configuration by walking the
// working directory for a goaws.yaml; this program uses goaws' router alone, binds
// 127.0.0.1, and sets the configuration in code. It listens at the given port (0: a
// free one) and prints one line, "listening http://127.0.0.1:PORT", once it accepts
// connections. It stops on SIGINT or SIGTERM, and when its standard input closes, so
// that a test runner that dies without stopping it does not leave it behind.
//
// docs/local-sns.md says where goaws differs from Amazon SNS.
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
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/router"
	"github.com/sirupsen/logrus"
)

// deliveryTimeout bounds each POST goaws makes to a subscriber. goaws sends through
// http.DefaultClient, which has no timeout, and it delivers inside the Subscribe and
// Publish calls: an endpoint that never answers would hold them forever.
const deliveryTimeout = 15 * time.Second

func main() {
	if err := run(); err != nil {
		log.Fatalf("sns-test-server: %v", err)
	}
}

func run() error {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	region := flag.String("region", "us-east-1", "region named in topic ARNs")
	accountID := flag.String("account-id", "100010001000", "account id named in topic ARNs")
	logLevel := flag.String("log-level", "warning", "goaws log level: debug, info, warning or error")
	watchStdin := flag.Bool("exit-on-stdin-eof", true, "stop when standard input closes")
	flag.Parse()

	level, err := logrus.ParseLevel(*logLevel)
	if err != nil {
		return err
	}
	logrus.SetLevel(level)
	// Subscriber endpoints carry credentials (ServiceNow's x-sn-apikey in the query,
	// user:password@ for basic auth) and goaws logs endpoints and URLs as they are.
	logrus.SetOutput(redactingWriter{os.Stderr})

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}
	actualPort := ln.Addr().(*net.TCPAddr).Port

	// goaws builds SubscribeURL, UnsubscribeURL and SigningCertURL from Host and Port:
	// they must name this listener, so that a subscriber can visit them.
	app.CurrentEnvironment = app.Environment{
		Host:      "127.0.0.1",
		Port:      strconv.Itoa(actualPort),
		Region:    *region,
		AccountID: *accountID,
		QueueAttributeDefaults: app.EnvQueueAttributes{
			// goaws' own defaults, which its config loader would otherwise set.
			VisibilityTimeout:  30,
			MaximumMessageSize: 262144,
		},
	}
	http.DefaultClient.Timeout = deliveryTimeout

	srv := &http.Server{
		Handler:           loopbackOnly(answerPanics(router.New())),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(redactingWriter{os.Stderr}, "sns-test-server: ", 0),
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	// SQS shares goaws' router; its visibility timeouts need this ticker, as in goaws' main.
	quit := make(chan struct{})
	defer close(quit)
	go gosqs.PeriodicTasks(time.Second, quit)

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

var (
	loopbackName   = `(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])`
	loopbackHost   = regexp.MustCompile(`(?i)^` + loopbackName + `(?::\d{1,5})?$`)
	loopbackOrigin = regexp.MustCompile(`(?i)^https?://` + loopbackName + `(?::\d{1,5})?$`)
)

// loopbackOnly refuses requests that reach 127.0.0.1 but were not meant for it, as
// keywire's emulators do: a foreign Host (a DNS-rebinding page) or a foreign Origin (a
// web page posting a simple form, which needs no CORS preflight).
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost.MatchString(r.Host) {
			http.Error(w, "this server answers only requests addressed to localhost, 127.x.x.x or [::1]", http.StatusMisdirectedRequest)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !loopbackOrigin.MatchString(origin) {
			http.Error(w, "requests from web pages outside this machine are refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// answerPanics turns a panic in a goaws handler into a 500 answer and a one-line log
// entry. goaws' ConfirmSubscription panics on a token or topic it has no pending
// confirmation for (a nil map entry, or an error code it never defined); net/http
// would log a stack trace and drop the connection.
func answerPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			logrus.WithField("action", r.FormValue("Action")).Errorf("goaws handler failed: %v", p)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"+
				"<Message>goaws could not handle this request</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>\n")
		}()
		next.ServeHTTP(w, r)
	})
}

var (
	// A query parameter's value, up to the next separator or quoting character of the
	// log formats (logfmt escapes quotes as \").
	queryValue = regexp.MustCompile(`([?&][^=&\s"'\\]+=)[^&\s"'\\]+`)
	// user:password@ in a URL.
	urlUserinfo = regexp.MustCompile(`(://)[^/@\s"'\\]+@`)
)

// redactingWriter drops every query value and URL userinfo from what goaws logs.
// logrus and net/http's error log write one whole entry per Write call.
type redactingWriter struct{ out io.Writer }

func (w redactingWriter) Write(p []byte) (int, error) {
	red := queryValue.ReplaceAll(p, []byte("${1}[redacted]"))
	red = urlUserinfo.ReplaceAll(red, []byte("${1}[redacted]@"))
	if _, err := w.out.Write(red); err != nil {
		return 0, err
	}
	return len(p), nil
}
