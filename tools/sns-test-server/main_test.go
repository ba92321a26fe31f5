package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRedactingWriterDropsQueryValuesAndUserinfo(t *testing.T) {
	var out bytes.Buffer
	line := `level=error msg="Error calling endpoint" EndPoint="http://user:pw@127.0.0.1:8080/api/x?source=aws&x-sn-apikey=now_SECRET" error="Post \"http://127.0.0.1:8080/api/x?x-sn-apikey=now_SECRET\": EOF"` + "\n"
	n, err := redactingWriter{&out}.Write([]byte(line))
	if err != nil || n != len(line) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(line))
	}
	got := out.String()
	if bytes.Contains(out.Bytes(), []byte("SECRET")) || bytes.Contains(out.Bytes(), []byte("user:pw")) {
		t.Fatalf("secret left in %q", got)
	}
	want := `level=error msg="Error calling endpoint" EndPoint="http://[redacted]@127.0.0.1:8080/api/x?source=[redacted]&x-sn-apikey=[redacted]" error="Post \"http://127.0.0.1:8080/api/x?x-sn-apikey=[redacted]\": EOF"` + "\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestLoopbackOnly(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, c := range []struct {
		host, origin string
		want         int
	}{
		{"127.0.0.1:4100", "", http.StatusNoContent},
		{"localhost:4100", "http://localhost:3000", http.StatusNoContent},
		{"[::1]:4100", "", http.StatusNoContent},
		{"evil.example:4100", "", http.StatusMisdirectedRequest},
		{"127.0.0.1:4100", "https://evil.example", http.StatusForbidden},
	} {
		req := httptest.NewRequest(http.MethodGet, "/health", nil)
		req.Host = c.host
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		rec := httptest.NewRecorder()
		loopbackOnly(ok).ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("Host %q Origin %q: %d, want %d", c.host, c.origin, rec.Code, c.want)
		}
	}
}

func TestAnswerPanicsAnswers500(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("nil map entry") })
	rec := httptest.NewRecorder()
	answerPanics(boom).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action=ConfirmSubscription", nil))
	if rec.Code != http.StatusInternalServerError || !bytes.Contains(rec.Body.Bytes(), []byte("<Code>InternalFailure</Code>")) {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}
