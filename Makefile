# sdc-vm-tools. `make all` installs, builds and packs; `make test` runs every test.
TSNODE := node -r tsm

.PHONY: all system-packages install build bundles native executables iso zip tar package test typecheck bench clean

all: system-packages install build package

system-packages:
	sh build/install-debian-packages.sh

install: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

build: install bundles native executables

bundles:
	$(TSNODE) build/bundle.ts

native:
	$(TSNODE) build/native.ts

executables: native
	$(TSNODE) build/sea.ts

# Archives from dist/ (run `make build` first). VIRTIO_WIN=virtio-win ISO or folder adds the drivers.
VIRTIO_WIN ?=
PACK = $(TSNODE) build/package.ts $(if $(VIRTIO_WIN),--virtio-win '$(VIRTIO_WIN)')

iso zip tar:
	$(PACK) $@

package:
	$(PACK) iso zip tar

typecheck:
	node_modules/.bin/tsc -p tsconfig.json

test: system-packages build typecheck
	bash test/run-all.sh

bench: build
	for b in bench/*.ts; do $(TSNODE) $$b || exit 1; done

clean:
	rm -rf dist
