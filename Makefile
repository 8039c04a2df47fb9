# sdc-vm-tools. `make all` installs, builds and packs; `make test` runs every test.
TSNODE := node -r tsm
UVU := node_modules/.bin/uvu

.PHONY: all install build bundles native executables test typecheck bench clean

all: install build

install:
	npm ci --no-audit --no-fund

build: bundles native executables

bundles:
	$(TSNODE) build/bundle.ts

native:
	$(TSNODE) build/native.ts

executables: native
	$(TSNODE) build/sea.ts

typecheck:
	node_modules/.bin/tsc -p tsconfig.json

test: build typecheck
	$(UVU) -r tsm test '\.test\.ts$$'

bench: build
	for b in bench/*.ts; do $(TSNODE) $$b || exit 1; done

clean:
	rm -rf dist
