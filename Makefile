.PHONY: test run build bench

# Everything: vet, unit, integration, client and browser tests on SQLite and
# PostgreSQL (installs chromium, node and PostgreSQL when missing).
test:
	./scripts/test

run:
	go run ./cmd/cxloop serve --demo

build:
	go build -o cxloop ./cmd/cxloop

bench:
	go run ./bench/ingest
