# sdc-vm-tools. `make all` installs, builds and packs; `make test` runs the unit and integration tests.
TSNODE := node -r tsm

.PHONY: all system-packages test-packages install build bundles native executables runtime iso zip tar package test test-unit test-vm typecheck bench clean

all: system-packages install build package

system-packages:
	sh build/install-debian-packages.sh build/packages-build.txt

test-packages: system-packages
	sh build/install-debian-packages.sh test/packages-test.txt

install: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

build: install bundles native executables runtime

bundles:
	$(TSNODE) build/bundle.ts

native:
	$(TSNODE) build/native.ts

executables: native
	$(TSNODE) build/sea.ts

# The private glibc runtime and the launcher beside the Linux executable (Debian packages, apt-get download).
runtime: executables
	$(TSNODE) build/runtime.ts

# Archives from dist/ (run `make build` first). VIRTIO_WIN=virtio-win ISO or folder adds the drivers.
VIRTIO_WIN ?=
PACK = $(TSNODE) build/package.ts $(if $(VIRTIO_WIN),--virtio-win '$(VIRTIO_WIN)')

iso zip tar:
	$(PACK) $@

package:
	$(PACK) iso zip tar

typecheck:
	node_modules/.bin/tsc -p tsconfig.json

# The VM scenarios that `make test` runs too (docs/vm-tests.md says why these).
VM_IN_TEST := test/vm/mdata-tools.test.ts test/vm/boot-actions.test.ts

# Every test: the unit and integration tiers and the VM scenarios above; CI sets
# SDC_TEST_NO_SKIP=1 so that a skipped test fails.
test: test-packages build typecheck
	$(TSNODE) test/run.ts all $(sort $(wildcard test/unit/*.test.ts)) $(sort $(wildcard test/integration/*.test.ts)) $(VM_IN_TEST)

# Every VM scenario: Debian guests under QEMU (TCG), root built with mmdebstrap and cached in .cache/vm.
test-vm: test-packages build
	$(TSNODE) test/run.ts vm

# The fast tier: no build, no Debian packages, no wine.
test-unit: install
	$(TSNODE) test/run.ts unit

bench: build
	for b in bench/*.ts; do $(TSNODE) $$b || exit 1; done

clean:
	rm -rf dist
