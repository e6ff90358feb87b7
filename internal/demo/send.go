package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Send generates the sample business and posts it to baseURL's /v1/batch
// with the write key, 100 messages a request from a few workers. It returns
// how many messages were accepted.
func Send(ctx context.Context, baseURL, writeKey string, opts Options) (int, error) {
	batches := make(chan []Message, 8)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sent     int
	)
	client := &http.Client{Timeout: 60 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				err := post(ctx, client, strings.TrimRight(baseURL, "/")+"/v1/batch", writeKey, b)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					sent += len(b)
				}
				mu.Unlock()
			}
		}()
	}
	var cur []Message
	genErr := Generate(opts, func(m Message) error {
		mu.Lock()
		failed := firstErr
		mu.Unlock()
		if failed != nil {
			return failed
		}
		cur = append(cur, m)
		if len(cur) == 100 {
			select {
			case batches <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			cur = nil
		}
		return nil
	})
	if genErr == nil && len(cur) > 0 {
		batches <- cur
	}
	close(batches)
	wg.Wait()
	if genErr != nil {
		return sent, genErr
	}
	return sent, firstErr
}

func post(ctx context.Context, client *http.Client, url, key string, batch []Message) error {
	// No sentAt: the generator writes absolute timestamps, so there is no
	// device clock to correct (and a server on a test clock would shift
	// the whole history by the difference).
	body, err := json.Marshal(map[string]any{"batch": batch})
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.SetBasicAuth(key, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("demo: %s answered %s: %s", url, resp.Status, msg)
			if resp.StatusCode < 500 {
				return err
			}
		}
		if attempt == 4 || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}
